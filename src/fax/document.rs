//! The received document: the TIFF as spandsp wrote it, and a PDF that embeds its G3/G4 strips
//! as they are (CCITTFaxDecode image XObjects; PDF 1.7, ISO 32000-1 7.4.6), one page per TIFF
//! page, sized from the resolution tags. No pixel is decoded or re-encoded here.
//!
//! TIFF facts (TIFF 6.0, Section 11 and Class F): Compression 3 is T.4 with `T4Options`
//! (bit 0: 2-D, bit 2: EOLs byte-aligned), 4 is T.6; `FillOrder` 2 stores the first bit in the
//! least significant bit, while PDF wants it in the most significant one, so those bytes are
//! bit-reversed (not re-encoded); `PhotometricInterpretation` 0 (white is zero) is what the
//! CCITT decoders of PDF produce, 1 gets a `/Decode [1 0]`.

use std::fs::File;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref};
use tiff::decoder::Decoder;
use tiff::tags::Tag;

use super::{FaxError, Reception};

/// How the device's owner wants faxes (the device's `format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentFormat {
    Tiff,
    Pdf,
}

/// What the mail and the inbox say about a received fax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaxMetadata {
    pub pages: u32,
    pub remote_station_id: String,
    pub bit_rate: u32,
    pub ecm: bool,
    pub duration: Duration,
    /// T.30 completion code; 0 is a complete reception.
    pub completion_code: i32,
    pub result: String,
}

impl FaxMetadata {
    /// What `reception`, which lasted `duration`, says.
    pub fn of(reception: &Reception, duration: Duration) -> FaxMetadata {
        FaxMetadata {
            pages: reception.pages,
            remote_station_id: reception.remote_station_id.clone(),
            bit_rate: reception.bit_rate,
            ecm: reception.ecm,
            duration,
            completion_code: reception.completion_code,
            result: reception.completion_text.clone(),
        }
    }
}

/// The document to mail (none if not a single page arrived) and its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaxDocument {
    pub path: Option<PathBuf>,
    pub metadata: FaxMetadata,
}

/// Most pages and strips we embed (a fax of more is refused, not truncated).
const MAX_PAGES: usize = 1000;
const MAX_STRIPS: usize = 10_000;

/// Fsyncs the received TIFF and, for `Pdf`, writes and fsyncs `<tiff>.pdf` beside it.
pub fn write_document(
    tiff: &Path,
    format: DocumentFormat,
    reception: &Reception,
    duration: Duration,
) -> Result<FaxDocument, FaxError> {
    let metadata = FaxMetadata::of(reception, duration);
    let io = |source| FaxError::Io {
        path: tiff.to_path_buf(),
        source,
    };
    if reception.pages == 0 || !tiff.exists() {
        return Ok(FaxDocument {
            path: None,
            metadata,
        });
    }
    File::open(tiff).and_then(|f| f.sync_all()).map_err(io)?;
    let path = match format {
        DocumentFormat::Tiff => tiff.to_path_buf(),
        DocumentFormat::Pdf => {
            let bytes = std::fs::read(tiff).map_err(io)?;
            let pdf = tiff_to_pdf(&bytes).map_err(|reason| FaxError::Tiff {
                path: tiff.to_path_buf(),
                reason,
            })?;
            let out = tiff.with_extension("pdf");
            write_synced(&out, &pdf).map_err(|source| FaxError::Io {
                path: out.clone(),
                source,
            })?;
            out
        }
    };
    Ok(FaxDocument {
        path: Some(path),
        metadata,
    })
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("pdf.part");
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// One TIFF page as the PDF needs it.
#[derive(Debug)]
struct TiffPage {
    width: u32,
    length: u32,
    /// Page size in points.
    size: (f32, f32),
    /// CCITTFaxDecode `K`: -1 for T.6, 0 for T.4 1-D, > 0 for T.4 2-D.
    k: i32,
    byte_align: bool,
    invert: bool,
    /// Each strip's data (bit order already MSB first) and its rows.
    strips: Vec<(Vec<u8>, u32)>,
}

/// The PDF for a TIFF of bilevel G3/G4 pages; the error says what the TIFF lacks.
pub fn tiff_to_pdf(tiff: &[u8]) -> Result<Vec<u8>, String> {
    let mut decoder = Decoder::new(Cursor::new(tiff)).map_err(|e| e.to_string())?;
    let mut pages = Vec::new();
    loop {
        pages.push(read_page(&mut decoder, tiff)?);
        if !decoder.more_images() || pages.len() >= MAX_PAGES {
            break;
        }
        decoder.next_image().map_err(|e| e.to_string())?;
    }
    Ok(write_pdf(&pages))
}

fn read_page(d: &mut Decoder<Cursor<&[u8]>>, file: &[u8]) -> Result<TiffPage, String> {
    let mut tag = |t: Tag| d.find_tag_unsigned::<u32>(t).map_err(|e| e.to_string());
    let width = tag(Tag::ImageWidth)?.ok_or("no ImageWidth")?;
    let length = tag(Tag::ImageLength)?.ok_or("no ImageLength")?;
    let compression = tag(Tag::Compression)?.unwrap_or(1);
    let fill_order = tag(Tag::FillOrder)?.unwrap_or(1);
    let photometric = tag(Tag::PhotometricInterpretation)?.unwrap_or(0);
    let t4_options = tag(Tag::Unknown(292))?.unwrap_or(0);
    let unit = tag(Tag::ResolutionUnit)?.unwrap_or(2);
    let rows_per_strip = tag(Tag::RowsPerStrip)?.unwrap_or(length).max(1);
    let bits = tag(Tag::BitsPerSample)?.unwrap_or(1);
    if bits != 1 || width == 0 || length == 0 || width > 10_000 || length > 100_000 {
        return Err(format!(
            "not a bilevel fax page ({width}x{length}, {bits} bits)"
        ));
    }
    let (k, byte_align) = match compression {
        3 if t4_options & 1 != 0 => (10_000, t4_options & 4 != 0),
        3 => (0, t4_options & 4 != 0),
        4 => (-1, false),
        other => return Err(format!("compression {other} is not T.4 or T.6")),
    };
    let per_inch = if unit == 3 { 2.54 } else { 1.0 };
    let mut res = |t: Tag, default: f32| match d.find_tag(t) {
        Ok(Some(v)) => v.into_f32().ok().filter(|r| *r > 1.0).unwrap_or(default),
        _ => default,
    };
    let (xres, yres) = (res(Tag::XResolution, 204.0), res(Tag::YResolution, 196.0));
    let size = (
        width as f32 / (xres * per_inch) * 72.0,
        length as f32 / (yres * per_inch) * 72.0,
    );
    let offsets = d
        .get_tag_u64_vec(Tag::StripOffsets)
        .map_err(|e| e.to_string())?;
    let counts = d
        .get_tag_u64_vec(Tag::StripByteCounts)
        .map_err(|e| e.to_string())?;
    if offsets.len() != counts.len() || offsets.is_empty() || offsets.len() > MAX_STRIPS {
        return Err("strip offsets and byte counts do not match".into());
    }
    let mut strips = Vec::with_capacity(offsets.len());
    let mut rows_left = length;
    for (&off, &count) in offsets.iter().zip(&counts) {
        let range = usize::try_from(off).ok().zip(usize::try_from(count).ok());
        let data = range
            .and_then(|(o, c)| file.get(o..o.checked_add(c)?))
            .ok_or("a strip lies outside the file")?;
        let rows = rows_left.min(rows_per_strip);
        rows_left -= rows;
        let data = if fill_order == 2 {
            data.iter().map(|b| b.reverse_bits()).collect()
        } else {
            data.to_vec()
        };
        strips.push((data, rows));
    }
    Ok(TiffPage {
        width,
        length,
        size,
        k,
        byte_align,
        invert: photometric == 1,
        strips,
    })
}

fn write_pdf(pages: &[TiffPage]) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let mut next = 1;
    let mut alloc = || {
        next += 1;
        Ref::new(next)
    };
    let catalog = Ref::new(1);
    let tree = alloc();
    let page_ids: Vec<Ref> = pages.iter().map(|_| alloc()).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(pages.len() as i32);
    for (page, &id) in pages.iter().zip(&page_ids) {
        let content_id = alloc();
        let images: Vec<Ref> = page.strips.iter().map(|_| alloc()).collect();
        let (w, h) = page.size;
        let mut content = Content::new();
        let mut top = 0u32;
        for (i, (_, rows)) in page.strips.iter().enumerate() {
            let strip_h = h * *rows as f32 / page.length as f32;
            let y = h - h * top as f32 / page.length as f32 - strip_h;
            top += rows;
            let name = format!("Im{i}");
            content.save_state();
            content.transform([w, 0.0, 0.0, strip_h, 0.0, y]);
            content.x_object(Name(name.as_bytes()));
            content.restore_state();
        }
        let mut p = pdf.page(id);
        p.media_box(Rect::new(0.0, 0.0, w, h))
            .parent(tree)
            .contents(content_id);
        let mut resources = p.resources();
        let mut xobjects = resources.x_objects();
        for (i, &img) in images.iter().enumerate() {
            xobjects.pair(Name(format!("Im{i}").as_bytes()), img);
        }
        xobjects.finish();
        resources.finish();
        p.finish();
        pdf.stream(content_id, &content.finish());
        for ((data, rows), &img) in page.strips.iter().zip(&images) {
            let mut x = pdf.image_xobject(img, data);
            x.filter(Filter::CcittFaxDecode);
            x.width(page.width as i32).height(*rows as i32);
            x.color_space().device_gray();
            x.bits_per_component(1);
            if page.invert {
                x.decode([1.0, 0.0]);
            }
            x.decode_parms()
                .k(page.k)
                .columns(page.width as i32)
                .rows(*rows as i32)
                .encoded_byte_align(page.byte_align);
        }
    }
    pdf.finish()
}

//! Key presses (and tones: a lossy one, a fax machine's CNG) as pcap files for sipp's
//! `play_pcap_audio`: RFC 4733 telephone-events (payload type 101, as the test scenarios offer it) in Ethernet/IPv4/UDP frames, the way
//! sipp's own `dtmf_2833_N.pcap` are made. sipp replays a pcap as recorded, so each press gets
//! a file of its own with later RTP timestamps and sequence numbers: a receiver takes a
//! second press from the same file for a retransmission of the first.

use std::path::Path;

/// The telephone-event payload type of the scenarios' offers.
const PAYLOAD_TYPE: u8 = 101;
const SSRC: u32 = 0x5A3D_0001;
/// Packets per press: 7 while the key is down, 3 copies of the end (RFC 4733 §2.5.1.4).
const DOWN: u16 = 7;
const END_COPIES: u16 = 3;

/// Writes `key-0.pcap`, `key-1.pcap`, … into `dir`, one per key of `keys`.
pub(crate) fn write_keys(dir: &Path, keys: &str) {
    for (n, key) in keys.chars().enumerate() {
        let n = n as u32;
        let frames = press(event_code(key), (n * 16) as u16, n * 8000);
        std::fs::write(dir.join(format!("key-{n}.pcap")), pcap(&frames)).expect("pcap");
    }
}

fn event_code(key: char) -> u8 {
    match key {
        '0'..='9' => key as u8 - b'0',
        '*' => 10,
        '#' => 11,
        _ => panic!("no DTMF key {key}"),
    }
}

/// Writes `name`: `seconds` of a 1 kHz tone as A-law RTP (payload type 8, 20 ms packets),
/// with every `lose_every`-th packet missing and every `swap_every`-th pair sent in the wrong
/// order, as a lossy network would deliver it. Returns the packets left out.
pub(crate) fn write_lossy_tone(
    dir: &Path,
    name: &str,
    seconds: usize,
    (lose_every, swap_every): (usize, usize),
) -> usize {
    let tone: Vec<i16> = (0..seconds * 8000)
        .map(|i| (8_000.0 * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / 8000.0).sin()) as i16)
        .collect();
    let mut packets = alaw_packets(&tone);
    for n in (swap_every..packets.len()).step_by(swap_every) {
        // The later packet first, the earlier one 20 ms late (at the later one's time).
        let (a, b) = (packets[n - 1].1.clone(), packets[n].1.clone());
        packets[n - 1].1 = b;
        packets[n].1 = a;
    }
    let before = packets.len();
    let kept: Vec<(u32, Vec<u8>)> = packets
        .into_iter()
        .enumerate()
        .filter(|(n, _)| (n + 1) % lose_every != 0)
        .map(|(_, p)| p)
        .collect();
    let lost = before - kept.len();
    std::fs::write(dir.join(name), pcap(&kept)).expect("pcap");
    lost
}

/// Writes `name`: `seconds` of a fax machine's calling tone CNG as A-law RTP: 1100 Hz, 0.5 s
/// on, 3 s off (T.30's cadence, as spandsp's modem_connect_tones.c gives it).
pub(crate) fn write_cng(dir: &Path, name: &str, seconds: usize) {
    let tone: Vec<i16> = (0..seconds * 8000)
        .map(|i| {
            let on = i % 28_000 < 4_000;
            let s = (2.0 * std::f64::consts::PI * 1100.0 * i as f64 / 8000.0).sin();
            if on { (8_000.0 * s) as i16 } else { 0 }
        })
        .collect();
    std::fs::write(dir.join(name), pcap(&alaw_packets(&tone))).expect("pcap");
}

/// `samples` as A-law RTP packets (payload type 8) 20 ms apart: (time offset in µs, packet).
fn alaw_packets(samples: &[i16]) -> Vec<(u32, Vec<u8>)> {
    samples
        .chunks(160)
        .enumerate()
        .map(|(n, frame)| {
            let mut rtp = vec![0x80, if n == 0 { 0x88 } else { 8 }];
            rtp.extend_from_slice(&(1000 + n as u16).to_be_bytes());
            rtp.extend_from_slice(&(n as u32 * 160).to_be_bytes());
            rtp.extend_from_slice(&SSRC.wrapping_add(1).to_be_bytes());
            zentrale::media::Codec::Pcma.encode(frame, &mut rtp);
            (n as u32 * 20_000, rtp)
        })
        .collect()
}

/// The RTP packets of one press, 20 ms apart: (time offset in µs, packet).
fn press(event: u8, seq: u16, timestamp: u32) -> Vec<(u32, Vec<u8>)> {
    (0..DOWN + END_COPIES)
        .map(|i| {
            let end = i >= DOWN;
            let duration = 160 * (i.min(DOWN - 1) + 1);
            let mut rtp = vec![0x80, PAYLOAD_TYPE | if i == 0 { 0x80 } else { 0 }];
            rtp.extend_from_slice(&(seq + i).to_be_bytes());
            rtp.extend_from_slice(&timestamp.to_be_bytes());
            rtp.extend_from_slice(&SSRC.to_be_bytes());
            // Event, E bit and volume 10, duration.
            rtp.extend_from_slice(&[event, if end { 0x80 | 10 } else { 10 }]);
            rtp.extend_from_slice(&duration.to_be_bytes());
            (u32::from(i) * 20_000, rtp)
        })
        .collect()
}

/// A pcap file (Ethernet link type) of `frames`; addresses and ports are placeholders sipp
/// replaces with the call's.
fn pcap(frames: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65_535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes()); // LINKTYPE_ETHERNET
    for (at, rtp) in frames {
        let frame = ethernet(rtp);
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&at.to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&frame);
    }
    out
}

fn ethernet(rtp: &[u8]) -> Vec<u8> {
    let mut frame = vec![0u8; 12];
    frame.extend_from_slice(&[0x08, 0x00]);
    let udp_len = 8 + rtp.len() as u16;
    let mut ip = vec![
        0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
    ];
    ip[2..4].copy_from_slice(&(20 + udp_len).to_be_bytes());
    let sum = checksum(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    frame.extend_from_slice(&ip);
    frame.extend_from_slice(&6000u16.to_be_bytes());
    frame.extend_from_slice(&6000u16.to_be_bytes());
    frame.extend_from_slice(&udp_len.to_be_bytes());
    frame.extend_from_slice(&0u16.to_be_bytes());
    frame.extend_from_slice(rtp);
    frame
}

/// The IPv4 header checksum (RFC 791).
fn checksum(header: &[u8]) -> u16 {
    let sum: u32 = header
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    let folded = (sum & 0xffff) + (sum >> 16);
    !((folded & 0xffff) + (folded >> 16)) as u16
}

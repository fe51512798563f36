//! What an import file may ask of us. A phone system's users fit in a few thousand rows; a file
//! beyond these bounds is refused with the bound it broke, before it can cost memory or time.

/// The bounds; [`Limits::default`] is what the CLI and the API use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The xlsx file itself (compressed).
    pub file_bytes: usize,
    /// Entries in its zip archive (a template has about 20).
    pub entries: usize,
    /// Bytes one entry may decompress to.
    pub entry_bytes: u64,
    /// Bytes all entries together may decompress to.
    pub total_bytes: u64,
    /// Strings in the shared-strings table (calamine reserves what the file declares).
    pub shared_strings: u64,
    pub sheets: usize,
    /// Highest row number of any cell (the header row is row 1).
    pub rows: u32,
    /// Columns A.. up to this many.
    pub columns: u32,
    /// Non-empty cells in the whole workbook.
    pub cells: usize,
    /// Characters of one cell; a longer one becomes a problem at that cell, not a string in memory.
    pub cell_chars: usize,
    /// Bytes of text in all cells together (one shared string may be used by every cell).
    pub text_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            file_bytes: 32 << 20,
            entries: 1000,
            entry_bytes: 128 << 20,
            total_bytes: 256 << 20,
            shared_strings: 1_000_000,
            sheets: 32,
            rows: 50_001,
            columns: 64,
            cells: 1_000_000,
            cell_chars: 1024,
            text_bytes: 48 << 20,
        }
    }
}

//! `[fax]`: how zentrale receives faxes on users' virtual fax devices.

use super::section::Section;

/// `[fax]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaxConfig {
    /// On hearing the caller's CNG on audio, offer T.38 (a re-INVITE); a caller that refuses
    /// stays on G.711. A caller's own T.38 re-INVITE is accepted either way.
    pub t38_on_cng: bool,
    /// Longest reception; the call ends there with what arrived (a fax of 100 pages takes
    /// about 30 minutes at 9,600 bit/s).
    pub max_secs: u64,
}

impl Default for FaxConfig {
    fn default() -> Self {
        FaxConfig {
            t38_on_cng: true,
            max_secs: 3600,
        }
    }
}

pub(super) fn fax(mut s: Section) -> FaxConfig {
    let d = FaxConfig::default();
    let c = FaxConfig {
        t38_on_cng: s.get("t38_on_cng", || d.t38_on_cng),
        max_secs: s.get("max_secs", || d.max_secs),
    };
    if !(60..=86_400).contains(&c.max_secs) {
        s.problem("max_secs", "must be 60 to 86400 seconds");
    }
    s.finish();
    c
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn defaults_and_bounds() {
        let c = Config::parse("").expect("defaults").fax;
        assert!(c.t38_on_cng);
        assert_eq!(c.max_secs, 3600);
        let c = Config::parse("[fax]\nt38_on_cng = false\nmax_secs = 600\n").expect("valid");
        assert_eq!((c.fax.t38_on_cng, c.fax.max_secs), (false, 600));
        let problems = Config::parse("[fax]\nmax_secs = 5\nnope = 1\n").expect_err("invalid");
        let text = format!("{problems}");
        assert!(
            text.contains("fax.max_secs:") && text.contains("fax.nope"),
            "{text}"
        );
    }
}

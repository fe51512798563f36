//! The summer-time rule of a POSIX TZ string (`CET-1CEST,M3.5.0,M10.5.0/3`), split into the
//! parts phones want: month, week of the month (5 = last), weekday (0 = Sunday) and hour.
//! Only the forms in [`crate::config::TIMEZONES`] are needed: `Mm.w.d[/h]` changes.

use serde::Serialize;

/// One change between standard and summer time, in local time before the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Change {
    pub month: u8,
    /// 1–4, or 5 for the last such weekday of the month.
    pub week: u8,
    /// 0 = Sunday … 6 = Saturday (POSIX).
    pub weekday: u8,
    /// 0 = Monday … 7 = Sunday: Yealink's and Poly's numbering.
    pub weekday_iso: u8,
    pub hour: u8,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rule {
    pub std_abbr: String,
    pub dst_abbr: String,
    pub start: Option<Change>,
    pub end: Option<Change>,
}

impl Rule {
    /// Parses `posix`; a zone without a `,` rule has no summer time. Parts that do not parse
    /// leave the rule without summer time rather than guessing.
    pub fn parse(posix: &str) -> Rule {
        let (zone, rules) = posix.split_once(',').unwrap_or((posix, ""));
        let std_abbr = abbr(zone);
        let after_offset = zone[std_abbr.len()..]
            .trim_start_matches(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | ':'));
        let dst_abbr = abbr(after_offset);
        let mut parts = rules.split(',');
        let start = parts.next().and_then(change);
        let end = parts.next().and_then(change);
        let unquote = |a: String| a.trim_matches(|c| c == '<' || c == '>').to_owned();
        match (start, end) {
            (Some(start), Some(end)) => Rule {
                std_abbr: unquote(std_abbr),
                dst_abbr: unquote(dst_abbr),
                start: Some(start),
                end: Some(end),
            },
            _ => Rule {
                std_abbr: unquote(std_abbr),
                ..Rule::default()
            },
        }
    }
}

/// A zone abbreviation at the start of `text`: letters, or `<…>` quoted.
fn abbr(text: &str) -> String {
    if text.starts_with('<') {
        return text
            .find('>')
            .map_or(String::new(), |i| text[..=i].to_owned());
    }
    text.chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect()
}

/// `Mm.w.d[/h]`, the hour defaulting to 2 (POSIX).
fn change(text: &str) -> Option<Change> {
    let (date, hour) = text.split_once('/').unwrap_or((text, "2"));
    let mut f = date.strip_prefix('M')?.split('.');
    let month: u8 = f.next()?.parse().ok()?;
    let week: u8 = f.next()?.parse().ok()?;
    let weekday: u8 = f.next()?.parse().ok()?;
    let hour: u8 = hour.parse().ok()?;
    let valid = (1..=12).contains(&month) && (1..=5).contains(&week) && weekday <= 6 && hour < 24;
    valid.then_some(Change {
        month,
        week,
        weekday,
        weekday_iso: if weekday == 0 { 7 } else { weekday },
        hour,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn european_rules_split_into_their_changes() {
        let r = Rule::parse("CET-1CEST,M3.5.0,M10.5.0/3");
        assert_eq!((r.std_abbr.as_str(), r.dst_abbr.as_str()), ("CET", "CEST"));
        let s = r.start.expect("start");
        let e = r.end.expect("end");
        assert_eq!(
            (s.month, s.week, s.weekday, s.weekday_iso, s.hour),
            (3, 5, 0, 7, 2)
        );
        assert_eq!((e.month, e.week, e.weekday, e.hour), (10, 5, 0, 3));
        let london = Rule::parse("GMT0BST,M3.5.0/1,M10.5.0");
        assert_eq!(london.start.map(|c| c.hour), Some(1));
        assert_eq!(london.end.map(|c| c.hour), Some(2));
    }

    #[test]
    fn zones_without_summer_time_have_no_changes() {
        for z in ["UTC0", "<+03>-3", "CET-1CEST,M13.5.0,M10.5.0", "X"] {
            let r = Rule::parse(z);
            assert_eq!((r.start, r.end), (None, None), "{z}");
        }
        assert_eq!(Rule::parse("<+03>-3").std_abbr, "+03");
    }
}

//! Time spans on the command line (`--cooldown`, `--timeout`): `90s`, `30m`, `6h`, `1d`,
//! combinations such as `1h 30m` or `1h30m`, and a bare `0`.

/// Seconds per unit letter.
const UNITS: [(char, u64); 5] = [
    ('s', 1),
    ('m', 60),
    ('h', 3600),
    ('d', 86_400),
    ('w', 604_800),
];

/// Longest span accepted: ten years, far beyond any cooldown, and safe to add to an epoch.
const MAX_SECONDS: u64 = 10 * 366 * 86_400;

/// Parses a span into seconds.
pub fn parse_span(text: &str) -> Result<u64, String> {
    let fail = |why: &str| {
        format!("'{text}' is not a time span ({why}; use e.g. 90s, 30m, 6h, 1d or 1h 30m)")
    };
    let trimmed = text.trim();
    if trimmed == "0" {
        return Ok(0);
    }
    if trimmed.is_empty() {
        return Err(fail("empty"));
    }
    let mut total: u64 = 0;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(fail("expected a number"));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| fail("number too large"))?;
        rest = &rest[digits..];
        let Some(unit) = rest.chars().next() else {
            return Err(fail("a number needs a unit: s, m, h, d or w"));
        };
        let Some(&(_, seconds)) = UNITS.iter().find(|(letter, _)| *letter == unit) else {
            return Err(fail(&format!("unknown unit '{unit}'")));
        };
        rest = rest[unit.len_utf8()..].trim_start();
        total = number
            .checked_mul(seconds)
            .and_then(|s| total.checked_add(s))
            .filter(|&s| s <= MAX_SECONDS)
            .ok_or_else(|| fail("longer than ten years"))?;
    }
    Ok(total)
}

/// The shortest text for `seconds` that [`parse_span`] reads back: `90s` → `1m 30s`.
pub fn format_span(seconds: u64) -> String {
    if seconds == 0 {
        return "0s".to_string();
    }
    let mut rest = seconds;
    let mut parts = Vec::new();
    for &(letter, size) in UNITS[..4].iter().rev() {
        if rest >= size {
            parts.push(format!("{}{letter}", rest / size));
            rest %= size;
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_units() {
        assert_eq!(parse_span("90s"), Ok(90));
        assert_eq!(parse_span("30m"), Ok(1800));
        assert_eq!(parse_span("6h"), Ok(21_600));
        assert_eq!(parse_span("1d"), Ok(86_400));
        assert_eq!(parse_span("2w"), Ok(1_209_600));
        assert_eq!(parse_span("0"), Ok(0));
        assert_eq!(parse_span("0s"), Ok(0));
    }

    #[test]
    fn combinations_with_and_without_spaces() {
        assert_eq!(parse_span("1h 30m"), Ok(5400));
        assert_eq!(parse_span("1h30m"), Ok(5400));
        assert_eq!(parse_span(" 1d  2h 3m 4s "), Ok(93_784));
    }

    #[test]
    fn bad_spans_are_refused_with_the_text() {
        for bad in [
            "",
            " ",
            "5",
            "h",
            "1x",
            "1 h",
            "-1m",
            "1.5h",
            "1h-",
            "１h",
            "99999999999d",
        ] {
            let error = parse_span(bad).unwrap_err();
            assert!(error.contains(&format!("'{bad}'")), "{bad:?}: {error}");
        }
        assert!(parse_span("3660d").is_ok());
        assert!(parse_span("3661d").is_err());
    }

    #[test]
    fn formatting_reads_back() {
        assert_eq!(format_span(0), "0s");
        assert_eq!(format_span(90), "1m 30s");
        assert_eq!(format_span(3600), "1h");
        assert_eq!(format_span(93_784), "1d 2h 3m 4s");
        for seconds in [1, 59, 61, 3599, 86_401, 1_000_000] {
            assert_eq!(parse_span(&format_span(seconds)), Ok(seconds));
        }
    }
}

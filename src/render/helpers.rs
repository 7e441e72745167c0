//! The value helpers of notification templates (templates.md §4): `human-bytes`,
//! `duration`, `timestamp` and `relative-percentage`, with upstream's output byte for
//! byte. The first three also render table columns, where bad input becomes `ERROR`.

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason,
};
use serde::Deserialize;
use serde_json::Value;

use super::LocalTime;

/// What a value helper writes for input it cannot use.
pub const BAD_VALUE: &str = "ERROR";

/// A renderer a table column may name (`"renderer": "human-bytes"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ValueRenderer {
    HumanBytes,
    Duration,
    Timestamp,
}

impl ValueRenderer {
    pub const ALL: [ValueRenderer; 3] = [
        ValueRenderer::HumanBytes,
        ValueRenderer::Duration,
        ValueRenderer::Timestamp,
    ];

    pub fn helper_name(self) -> &'static str {
        match self {
            ValueRenderer::HumanBytes => "human-bytes",
            ValueRenderer::Duration => "duration",
            ValueRenderer::Timestamp => "timestamp",
        }
    }

    pub fn render(self, value: &Value, local_time: LocalTime) -> String {
        let rendered = match self {
            ValueRenderer::HumanBytes => human_bytes(value),
            ValueRenderer::Duration => duration(value),
            ValueRenderer::Timestamp => timestamp(value, local_time),
        };
        rendered.unwrap_or_else(|| BAD_VALUE.to_string())
    }
}

/// Binary units chosen by the bit length of the integer part, the value rounded to three
/// decimals and printed in its shortest form: `1536` → `1.5 KiB`.
pub fn human_bytes(value: &Value) -> Option<String> {
    let size = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.parse::<f64>().ok()?,
        _ => return None,
    };
    // A negative size saturates to 0 here and so stays in bytes, as upstream.
    let bits = 64 - (size as u64).leading_zeros();
    let (unit, exponent) = match bits {
        51.. => ("PiB", 5),
        41..=50 => ("TiB", 4),
        31..=40 => ("GiB", 3),
        21..=30 => ("MiB", 2),
        11..=20 => ("KiB", 1),
        _ => ("B", 0),
    };
    let scaled = size / 1024f64.powi(exponent);
    let rounded = (scaled * 1000.0).round() / 1000.0;
    Some(format!("{rounded} {unit}"))
}

/// Whole seconds as `1y 2M 3w 4d 5h 6m 7s`, zero parts left out; a year is 365.25 days
/// and a month 30.44 days, applied to the whole days as upstream does.
pub fn duration(value: &Value) -> Option<String> {
    let total = match value {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.parse::<u64>().ok()?,
        _ => return None,
    };
    let seconds = total % 60;
    let minutes = total / 60 % 60;
    let hours = total / 3600 % 24;
    let days = total / 86_400;
    let years = (days as f64 / 365.25) as u64;
    let days_of_year = (days as f64 % 365.25) as u64;
    let months = (days_of_year as f64 / 30.44) as u64;
    let days_of_month = (days_of_year as f64 % 30.44) as u64;
    let parts = [
        (years, "y"),
        (months, "M"),
        (days_of_month / 7, "w"),
        (days_of_month % 7, "d"),
        (hours, "h"),
        (minutes, "m"),
    ];
    let mut out: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if seconds > 0 || out.is_empty() {
        out.push(format!("{seconds}s"));
    }
    Some(out.join(" "))
}

/// A Unix epoch as local `YYYY-MM-DD HH:MM:SS`.
pub fn timestamp(value: &Value, local_time: LocalTime) -> Option<String> {
    let epoch = match value {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) => s.parse::<i64>().ok()?,
        _ => return None,
    };
    local_time(epoch)
}

/// `A*100/B` with two decimals and `%`; `-` when B is 0.
pub fn relative_percentage(part: f64, whole: f64) -> String {
    if whole == 0.0 {
        "-".to_string()
    } else {
        format!("{:.2}%", part * 100.0 / whole)
    }
}

/// Registers `name` as a helper of one parameter that writes `render` of it. A missing
/// variable is `null`; no parameter at all, or an `Err` of `render`, fails the render.
/// Every helper but `relative-percentage` is of this kind: notification and webhook ones.
pub fn register_unary(
    engine: &mut Handlebars<'_>,
    name: &'static str,
    render: impl Fn(&Value) -> Result<String, String> + Send + Sync + 'static,
) {
    engine.register_helper(
        name,
        Box::new(
            move |h: &Helper<'_>,
                  _: &Handlebars<'_>,
                  _: &Context,
                  _: &mut RenderContext<'_, '_>,
                  out: &mut dyn Output|
                  -> HelperResult {
                let value = h
                    .param(0)
                    .map(|p| p.value())
                    .ok_or(RenderErrorReason::ParamNotFoundForIndex(name, 0))?;
                let rendered = render(value).map_err(RenderErrorReason::Other)?;
                out.write(&rendered)?;
                Ok(())
            },
        ),
    );
}

/// Registers `human-bytes`, `duration`, `timestamp` and `relative-percentage`.
pub fn register(engine: &mut Handlebars<'_>, local_time: LocalTime) {
    for renderer in ValueRenderer::ALL {
        register_unary(engine, renderer.helper_name(), move |value| {
            Ok(renderer.render(value, local_time))
        });
    }
    engine.register_helper("relative-percentage", Box::new(relative_percentage_helper));
}

fn relative_percentage_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let number = |index: usize| {
        h.param(index)
            .and_then(|p| p.value().as_f64())
            .ok_or_else(|| {
                RenderError::from(RenderErrorReason::Other(format!(
                    "relative-percentage: parameter {} is not a number",
                    index + 1
                )))
            })
    };
    let (part, whole) = (number(0)?, number(1)?);
    out.write(&relative_percentage(part, whole))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn human_bytes_edges() {
        let cases = [
            (json!(0), "0 B"),
            (json!(1), "1 B"),
            (json!(1023), "1023 B"),
            (json!(1024), "1 KiB"),
            (json!(1536), "1.5 KiB"),
            (json!(1048575), "1023.999 KiB"),
            (json!(1048576), "1 MiB"),
            (json!(9000), "8.789 KiB"),
            (json!(1u64 << 30), "1 GiB"),
            (json!(1u64 << 40), "1 TiB"),
            (json!(1u64 << 50), "1 PiB"),
            (json!((2u64 << 50) + 512 * (1u64 << 40)), "2.5 PiB"),
            (json!(1.5), "1.5 B"),
            (json!(-5), "-5 B"),
            (json!(-2048), "-2048 B"),
            (json!("1024"), "1 KiB"),
            (json!("1536.0"), "1.5 KiB"),
            (json!("2048.5"), "2 KiB"),
        ];
        for (value, expected) in cases {
            assert_eq!(human_bytes(&value).as_deref(), Some(expected), "{value}");
        }
        for bad in [
            json!(true),
            json!(null),
            json!("12 MB"),
            json!([1]),
            json!({}),
        ] {
            assert_eq!(human_bytes(&bad), None, "{bad}");
            assert_eq!(
                ValueRenderer::HumanBytes.render(&bad, utc),
                "ERROR",
                "{bad}"
            );
        }
    }

    #[test]
    fn duration_edges() {
        let cases = [
            (json!(0), "0s"),
            (json!(59), "59s"),
            (json!(60), "1m"),
            (json!(61), "1m 1s"),
            (json!(3600), "1h"),
            (json!(3725), "1h 2m 5s"),
            (json!(90061), "1d 1h 1m 1s"),
            (json!(604800), "1w"),
            (json!(32 * 86400 + 3), "1M 1d 3s"),
            // 365 days are not yet a year of 365.25 days.
            (json!(365 * 86400), "11M 4w 2d"),
            (json!(31557600), "11M 4w 2d 6h"),
            (json!(366 * 86400), "1y"),
            (json!("3725"), "1h 2m 5s"),
        ];
        for (value, expected) in cases {
            assert_eq!(duration(&value).as_deref(), Some(expected), "{value}");
        }
        for bad in [
            json!(1.5),
            json!(-1),
            json!("1.5"),
            json!("-1"),
            json!(null),
            json!(false),
        ] {
            assert_eq!(duration(&bad), None, "{bad}");
        }
    }

    fn utc(epoch: i64) -> Option<String> {
        chrono::DateTime::from_timestamp(epoch, 0).map(|t| t.format("%F %H:%M:%S").to_string())
    }

    #[test]
    fn timestamp_edges() {
        assert_eq!(
            timestamp(&json!(0), utc).as_deref(),
            Some("1970-01-01 00:00:00")
        );
        assert_eq!(
            timestamp(&json!("1717408800"), utc).as_deref(),
            Some("2024-06-03 10:00:00")
        );
        assert_eq!(
            timestamp(&json!(-1), utc).as_deref(),
            Some("1969-12-31 23:59:59")
        );
        for bad in [
            json!(1.5),
            json!("1.5"),
            json!(null),
            json!(true),
            json!("x"),
        ] {
            assert_eq!(timestamp(&bad, utc), None, "{bad}");
        }
    }

    #[test]
    fn relative_percentages() {
        assert_eq!(relative_percentage(1.0, 0.0), "-");
        assert_eq!(relative_percentage(0.0, 3.0), "0.00%");
        assert_eq!(relative_percentage(1.0, 3.0), "33.33%");
        assert_eq!(relative_percentage(3.0, 2.0), "150.00%");
    }
}

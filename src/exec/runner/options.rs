//! How a run behaves (`--only`, `--parallel`, and the copy options), and parsing `--bwlimit` rates.

use crate::exec::copy::CopyOptions;

/// The run's settings.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Only these migrations (`--only`, already checked to exist); empty means all.
    pub only: Vec<String>,
    /// Migrations run at once (at least 1).
    pub parallel: usize,
    pub copy: CopyOptions,
}

/// A `--bwlimit` value that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid bandwidth limit `{0}`: give bytes per second, such as `50MiB`, `10M`, `1.5G` or `800000` (K, M, G, T are powers of 1024; KB, MB are powers of 1000)"
)]
pub struct RateError(pub String);

/// Parses a rate in bytes per second: a number with an optional unit and `/s`.
/// `K`, `M`, `G`, `T` (and `KiB`, `MiB`...) are powers of 1024, like rsync and rclone;
/// `KB`, `MB`, `GB`, `TB` are powers of 1000. Zero is refused.
pub fn parse_rate(text: &str) -> Result<u64, RateError> {
    let error = || RateError(text.to_string());
    let trimmed = text.trim();
    let trimmed = trimmed
        .strip_suffix("/s")
        .or_else(|| trimmed.strip_suffix("ps"))
        .unwrap_or(trimmed)
        .trim_end();
    let split = trimmed
        .find(|character: char| !(character.is_ascii_digit() || character == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return Err(error());
    }
    let value: f64 = number.parse().map_err(|_| error())?;
    let multiplier: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024f64.powi(2),
        "g" | "gib" => 1024f64.powi(3),
        "t" | "tib" => 1024f64.powi(4),
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        _ => return Err(error()),
    };
    let bytes = (value * multiplier).round();
    if !(bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(error());
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_rate;

    #[test]
    fn rates_parse_like_rsync_and_rclone() {
        assert_eq!(parse_rate("50MiB"), Ok(50 * 1024 * 1024));
        assert_eq!(parse_rate("10M"), Ok(10 * 1024 * 1024));
        assert_eq!(parse_rate("10m"), Ok(10 * 1024 * 1024));
        assert_eq!(parse_rate("800000"), Ok(800_000));
        assert_eq!(parse_rate("1.5G"), Ok(1024 * 1024 * 1536));
        assert_eq!(parse_rate("5MB/s"), Ok(5_000_000));
        assert_eq!(parse_rate(" 64 KiB "), Ok(65_536));
        assert_eq!(parse_rate("512k"), Ok(524_288));
    }

    #[test]
    fn bad_rates_are_refused() {
        for bad in [
            "",
            "fast",
            "0",
            "-5M",
            "5 parsecs",
            "1.",
            ".5M",
            "1e9",
            "M",
            "1..2M",
            "99999999999T",
        ] {
            assert!(parse_rate(bad).is_err(), "{bad:?} must be refused");
        }
    }
}

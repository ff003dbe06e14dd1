//! "Did you mean" suggestions: the closest known name to a misspelt one.

/// The known name closest to `written`, when one is close enough to be a likely typo.
/// A case-insensitive exact match always wins.
pub fn closest<'a>(written: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lowered = written.to_lowercase();
    let mut best: Option<(f64, &'a str)> = None;
    for candidate in known {
        if candidate.to_lowercase() == lowered {
            return Some(candidate);
        }
        let score = strsim::jaro_winkler(&lowered, &candidate.to_lowercase());
        if score >= 0.8 && best.is_none_or(|(best_score, _)| score > best_score) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// A help line "did you mean `x`?" when a close name exists.
pub fn did_you_mean<'a>(written: &str, known: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(written, known).map(|name| format!("did you mean `{name}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let known = ["sources", "targets", "migrations", "version"];
        assert_eq!(closest("sorces", known), Some("sources"));
        assert_eq!(closest("migration", known), Some("migrations"));
        assert_eq!(closest("TARGETS", known), Some("targets"));
        assert_eq!(closest("zzz", known), None);
    }
}

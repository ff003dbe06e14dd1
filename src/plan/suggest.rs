//! "Did you mean" suggestions for misspelt names, and the short lists of names that help texts show.

/// Names at least this similar (Jaro-Winkler, 0 to 1) are offered as suggestions.
const SIMILARITY_THRESHOLD: f64 = 0.8;

/// Help texts list the defined names only when there are at most this many.
const MAX_LISTED_NAMES: usize = 8;

/// The candidate the user most likely meant: one equal ignoring case, else the most similar one
/// above the threshold, else none. `input` itself is never suggested.
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let candidates: Vec<&str> = candidates
        .into_iter()
        .filter(|candidate| *candidate != input)
        .collect();
    let input_lower = input.to_lowercase();
    if let Some(same) = candidates
        .iter()
        .find(|candidate| candidate.to_lowercase() == input_lower)
    {
        return Some(same);
    }
    let mut best: Option<(&str, f64)> = None;
    for candidate in candidates {
        if drive_letters_differ(input, candidate) {
            continue;
        }
        let similarity = strsim::jaro_winkler(&input_lower, &candidate.to_lowercase());
        if similarity >= SIMILARITY_THRESHOLD && best.is_none_or(|(_, score)| similarity > score) {
            best = Some((candidate, similarity));
        }
    }
    best.map(|(candidate, _)| candidate)
}

/// `E:` and `C:\` look alike as text but name different drives: never suggest one for the other.
fn drive_letters_differ(first: &str, second: &str) -> bool {
    match (drive_letter(first), drive_letter(second)) {
        (Some(first), Some(second)) => !first.eq_ignore_ascii_case(&second),
        _ => false,
    }
}

fn drive_letter(name: &str) -> Option<char> {
    let mut characters = name.trim().chars();
    let letter = characters.next()?;
    (letter.is_ascii_alphabetic() && characters.next() == Some(':')).then_some(letter)
}

/// `did you mean `x`?` and/or the list of defined names, for a help text. `None` when there is
/// nothing useful to say.
pub fn help_for_unknown(input: &str, kind_plural: &str, defined: &[&str]) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(suggestion) = did_you_mean(input, defined.iter().copied()) {
        parts.push(format!("did you mean `{suggestion}`?"));
    }
    if defined.is_empty() {
        parts.push(format!("the plan defines no {kind_plural}"));
    } else if defined.len() <= MAX_LISTED_NAMES {
        parts.push(format!(
            "the plan defines these {kind_plural}: {}",
            defined.join(", ")
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_and_nothing_for_unrelated_ones() {
        let names = ["web-01", "db-01", "files"];
        assert_eq!(did_you_mean("web-1", names), Some("web-01"));
        assert_eq!(did_you_mean("wbe-01", names), Some("web-01"));
        assert_eq!(did_you_mean("fiels", names), Some("files"));
        assert_eq!(did_you_mean("mainframe", names), None);
        assert_eq!(did_you_mean("x", names), None);
    }

    #[test]
    fn prefers_a_match_ignoring_case() {
        assert_eq!(did_you_mean("WEB-02", ["web-01", "web-02"]), Some("web-02"));
        assert_eq!(did_you_mean("/Data", ["/dat", "/data"]), Some("/data"));
    }

    #[test]
    fn mount_names() {
        assert_eq!(did_you_mean("/dta", ["/", "/data"]), Some("/data"));
        assert_eq!(did_you_mean("E:", ["C:\\", "D:\\"]), None);
        assert_eq!(did_you_mean("E:\\", ["C:\\", "D:\\"]), None);
        assert_eq!(
            did_you_mean("d:\\dat", ["C:\\", "D:\\Data"]),
            Some("D:\\Data")
        );
    }

    #[test]
    fn help_lists_few_names_only() {
        assert_eq!(
            help_for_unknown("web-1", "sources", &["web-01", "db-01"]).as_deref(),
            Some("did you mean `web-01`? the plan defines these sources: web-01, db-01")
        );
        assert_eq!(
            help_for_unknown("zzz", "targets", &[]).as_deref(),
            Some("the plan defines no targets")
        );
        let many: Vec<String> = (0..9).map(|index| format!("name-{index}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(help_for_unknown("other", "sources", &many), None);
    }
}

//! The text pipeline every guest comment goes through: normalise, triage, find personal data,
//! lay out for the page. None of it may panic, and each step keeps its promises.
#![no_main]

use std::sync::LazyLock;

use carethread::{
    comments::text::PlainText,
    safety::{personal, text, triage::WarningSigns},
};
use libfuzzer_sys::fuzz_target;

static SIGNS: LazyLock<WarningSigns> = LazyLock::new(WarningSigns::builtin);

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };

    let normal = text::normalise(raw);
    assert_eq!(text::normalise(&normal), normal, "normalising is idempotent");
    assert!(!normal.chars().any(|c| c == '\0' || c == '\r' || ('\u{202A}'..='\u{202E}').contains(&c)));
    let line = text::normalise_line(raw);
    assert!(!line.contains('\n'));

    let triage = SIGNS.check(&normal);
    assert_eq!(triage.urgent, !triage.signs.is_empty());

    let found = personal::find(&normal);
    for pair in found.windows(2) {
        assert!(pair[0].range.end <= pair[1].range.start, "findings do not overlap");
    }
    let marks: Vec<_> = found.iter().map(|f| (f.range.clone(), f.kind.label())).collect();
    for (range, _) in &marks {
        let _ = &normal[range.clone()];
    }
    let _ = PlainText::marked(&normal, &marks);
    let _ = PlainText::new(&normal);
});

//! Defence in depth: every value registered in `dozen_redact` is masked in every finished line,
//! whoever logged it.

use std::borrow::Cow;

/// Replaces every occurrence of a registered secret in `line` by `dozen_redact::MARKER`. One
/// atomic load when nothing is registered; one search over the line for all registered forms
/// at once otherwise. The line only gets shorter (a registered value is longer than the
/// marker), so a size limit it met still holds.
pub(crate) fn mask_line(line: &mut String) {
    let secrets = dozen_redact::secrets();
    if secrets.is_empty() {
        return;
    }
    if let Cow::Owned(masked) = secrets.mask(line) {
        *line = masked;
    }
}

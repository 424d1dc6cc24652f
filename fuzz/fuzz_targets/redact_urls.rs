//! `dozen_redact::redact_urls` on arbitrary text: it never panics, returns the text itself
//! when it borrows, and hides the secrets of every URL in the text: the password, a NATS
//! token and the values of secret query parameters, where a URL is any piece that starts at
//! a scheme and `://`, ends at white space, a control character, or a `,` or `;` that starts
//! another URL (as `redact_urls` documents for lists), and that the `url` crate parses.
//!
//! The password is checked as written and percent-decoded, when it is at least `MIN_LEN`
//! bytes long and occurs nowhere else in the text (else seeing it is no leak).
#![no_main]

use std::borrow::Cow;

use dozen_fuzz::{MIN_LEN, occurs_elsewhere, percent_decoded, shows, url_secrets_in_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let out = dozen_redact::redact_urls(text);
    if let Cow::Borrowed(b) = &out {
        assert_eq!(*b, text, "borrowed output differs from the input");
    }
    for (at, password) in url_secrets_in_text(text) {
        let decoded = percent_decoded(password);
        for (form, own) in [(password, vec![at]), (decoded.as_str(), Vec::new())] {
            let own = if form == password { vec![at] } else { own };
            if form.len() < MIN_LEN || occurs_elsewhere(text, form, &own) {
                continue;
            }
            assert!(
                !shows(&out, form),
                "secret {form:?} survives\n text: {text:?}\n out:  {out:?}"
            );
        }
    }
});

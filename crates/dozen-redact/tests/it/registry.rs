//! A registered value is masked in every form a line can carry it; a short one is not
//! registered, as documented.

use dozen_redact::{MARKER, MIN_SECRET_LEN, register, secrets};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

#[test]
fn masks_raw_json_escaped_and_percent_encoded_forms() {
    assert!(register("q\"uo/te s3cret"));
    let s = secrets();
    let table = [
        ("raw q\"uo/te s3cret end", "raw *** end"),
        (r#"{"m":"q\"uo/te s3cret"}"#, r#"{"m":"***"}"#),
        ("url q%22uo%2Fte%20s3cret@", "url ***@"),
        ("twice q\"uo/te s3cretq\"uo/te s3cret", "twice ******"),
        ("nothing here", "nothing here"),
    ];
    for (input, expected) in table {
        assert_eq!(s.mask(input), expected, "input: {input}");
        let mut bytes = input.as_bytes().to_vec();
        assert_eq!(s.mask_bytes(&mut bytes), input != expected);
        assert_eq!(String::from_utf8(bytes).unwrap(), expected);
    }
    assert!(!register("q\"uo/te s3cret"), "registered twice");
}

/// A registered value is masked in the URLs that real encoders write with it: the `url`
/// crate's user info (which keeps `!$%&'()*+,` raw), its form-encoded query (a space as `+`),
/// and `percent-encoding`'s `NON_ALPHANUMERIC` (`-` encoded too). Each used to be shown.
#[test]
fn masks_the_forms_url_encoders_write() {
    let values = [
        "p@ss!word-42",
        "correct horse battery",
        "t0k3n*(with)~marks",
        "pa$$ w0rd's+&,%",
    ];
    for value in values {
        assert!(register(value), "{value}");
    }
    let s = secrets();
    for value in values {
        let mut with_password = url::Url::parse("postgres://app@db/app").unwrap();
        with_password.set_password(Some(value)).unwrap();
        let mut with_query = url::Url::parse("https://h.test/cb?page=2").unwrap();
        with_query.query_pairs_mut().append_pair("q", value);
        let by_hand = format!(
            "redis://:{}@cache/0",
            utf8_percent_encode(value, NON_ALPHANUMERIC)
        );
        let parsed = url::Url::parse(&format!("mysql://app:{value}@db/app")).unwrap();
        let table = [
            (with_password.to_string(), "postgres://app:***@db/app"),
            (with_query.to_string(), "https://h.test/cb?page=2&q=***"),
            (by_hand, "redis://:***@cache/0"),
            (parsed.to_string(), "mysql://app:***@db/app"),
        ];
        for (line, expected) in table {
            assert_eq!(s.mask(&line), expected, "value {value:?}, line {line:?}");
            let mut bytes = line.as_bytes().to_vec();
            assert!(s.mask_bytes(&mut bytes), "line {line:?}");
            assert_eq!(String::from_utf8(bytes).unwrap(), expected);
        }
    }
}

#[test]
fn short_values_are_not_registered() {
    let short = "a".repeat(MIN_SECRET_LEN - 1);
    assert!(!register(&short));
    assert_eq!(secrets().mask(&format!("x{short}x")), format!("x{short}x"));
}

#[test]
fn a_longer_secret_containing_another_is_hidden_whole() {
    register("inner-secret-1");
    register("outer-inner-secret-1-tail");
    assert_eq!(
        secrets().mask("a outer-inner-secret-1-tail b"),
        format!("a {MARKER} b")
    );
}

#[test]
fn other_threads_see_a_registration() {
    register("from-main-thread-xyz");
    let masked = std::thread::spawn(|| secrets().mask("from-main-thread-xyz").into_owned())
        .join()
        .unwrap();
    assert_eq!(masked, MARKER);
}

#[test]
fn a_value_is_masked_at_once_while_other_threads_register() {
    // A reader used to keep a stale snapshot while another thread held the list.
    let writers: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..300 {
                    register(&format!("background-{t}-{i}-value"));
                }
            })
        })
        .collect();
    for i in 0..300 {
        let secret = format!("foreground-{i}-value");
        register(&secret);
        assert_eq!(secrets().mask(&secret), MARKER, "round {i}");
    }
    for w in writers {
        w.join().unwrap();
    }
}

#[test]
fn overlapping_nested_and_escaped_values_leave_nothing_visible() {
    for value in [
        "gate-key-7f3a",
        "7f3a-tail-key",
        "tok-tok-tok",
        "pfx-secret-9",
        "pfx-secret-9-longer",
        "naïve-pässwörd",
        "say \"hi\" \\ now",
    ] {
        assert!(register(value), "{value}");
    }
    let s = secrets();
    let table = [
        // Two values that overlap: one marker (one used to be masked whole and the start
        // of the other, `gate-key-`, left visible).
        ("a gate-key-7f3a-tail-key b", "a *** b"),
        // One value overlapping itself, and repeated back to back.
        ("tok-tok-tok-tok end", "*** end"),
        ("tok-tok-toktok-tok-tok", "******"),
        // A value that is a prefix of another, at the start and the end of the line.
        ("pfx-secret-9-longer and pfx-secret-9", "*** and ***"),
        ("pfx-secret-9pfx-secret-9-longer", "******"),
        // Multi-byte UTF-8, raw and percent-encoded.
        ("naïve-pässwörd", "***"),
        ("?p=na%C3%AFve-p%C3%A4ssw%C3%B6rd&x", "?p=***&x"),
        // JSON-escaped once (a JSON string) and twice (a `Debug` inside a JSON string).
        (r#"{"m":"say \"hi\" \\ now"}"#, r#"{"m":"***"}"#),
        (
            r#"{"m":"Some(\"say \\\"hi\\\" \\\\ now\")"}"#,
            r#"{"m":"Some(\"***\")"}"#,
        ),
        ("say%20%22hi%22%20%5C%20now", "***"),
    ];
    for (input, expected) in table {
        assert_eq!(s.mask(input), expected, "input: {input}");
        let mut bytes = input.as_bytes().to_vec();
        assert!(s.mask_bytes(&mut bytes), "input: {input}");
        assert_eq!(String::from_utf8(bytes).unwrap(), expected);
    }
}

#[test]
fn debug_names_no_value() {
    register("debug-must-not-show-this");
    let shown = format!("{:?}", secrets());
    assert!(!shown.contains("debug-must-not-show-this"), "{shown}");
    assert!(shown.contains("values hidden"), "{shown}");
}

/// Past 64 forms, masking searches with one finder per form instead of Teddy: every value
/// is still masked in every form, overlapping ones as one marker, at either end of a line.
/// No other test registers these values or writes them in a line, so the table holds
/// whether this test runs in a process of its own (nextest) or beside the others (`cargo
/// test`).
#[test]
fn above_64_forms_values_are_masked_as_below() {
    // Twenty values that chain (each ends as the next starts), six forms each.
    let value = |i: usize| format!("m{i:02} 'y' \"z\" \\ m{:02}", i + 1);
    for i in 0..20 {
        assert!(register(&value(i)), "{}", value(i));
    }
    // And one value that starts another.
    assert!(register("m-prefix-value"));
    assert!(register("m-prefix-value-longer"));
    let s = secrets();
    let shown = format!("{s:?}");
    let count: usize = shown
        .strip_prefix("Secrets(")
        .and_then(|rest| rest.split_once(' '))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of forms in {shown}"));
    assert!(count > 64, "{shown}");
    let all = (1..=20).fold(String::from("m00"), |line, i| {
        format!("{line} 'y' \"z\" \\ m{i:02}")
    });
    let table = [
        (value(3), "***".to_owned()),
        (format!("{} tail", value(0)), "*** tail".to_owned()),
        (format!("head {}", value(19)), "head ***".to_owned()),
        (format!("a {all} b"), "a *** b".to_owned()),
        (format!("{}{}", value(5), value(5)), "******".to_owned()),
        (
            "m-prefix-value-longer m-prefix-value".to_owned(),
            "*** ***".to_owned(),
        ),
        (
            r#"{"m":"m10 'y' \"z\" \\ m11 'y' \"z\" \\ m12"}"#.to_owned(),
            r#"{"m":"***"}"#.to_owned(),
        ),
        (
            r#"{"m":"Some(\"m10 'y' \\\"z\\\" \\\\ m11\")"}"#.to_owned(),
            r#"{"m":"Some(\"***\")"}"#.to_owned(),
        ),
        (
            "?p=m11%20%27y%27%20%22z%22%20%5C%20m12&x".to_owned(),
            "?p=***&x".to_owned(),
        ),
        (
            "m00 'y' \"z\" \\ m0".to_owned(),
            "m00 'y' \"z\" \\ m0".to_owned(),
        ),
    ];
    // Every form of every value, as the line, at its start and at its end.
    let forms = (0..20).flat_map(|i| {
        let (a, b) = (format!("m{i:02}"), format!("m{:02}", i + 1));
        [
            value(i),
            format!(r#"{a} 'y' \"z\" \\ {b}"#),
            format!(r#"{a} 'y' \\\"z\\\" \\\\ {b}"#),
            format!("{a}%20%27y%27%20%22z%22%20%5C%20{b}"),
            format!("{a}%20'y'%20%22z%22%20%5C%20{b}"),
            format!("{a}+%27y%27+%22z%22+%5C+{b}"),
        ]
    });
    let table = table.into_iter().chain(forms.flat_map(|form| {
        [
            (form.clone(), "***".to_owned()),
            (format!("{form} end"), "*** end".to_owned()),
            (format!("head {form}"), "head ***".to_owned()),
        ]
    }));
    for (input, expected) in table {
        assert_eq!(s.mask(&input), expected, "input: {input}");
        let mut bytes = input.as_bytes().to_vec();
        assert_eq!(s.mask_bytes(&mut bytes), input != expected);
        assert_eq!(String::from_utf8(bytes).unwrap(), expected);
    }
}

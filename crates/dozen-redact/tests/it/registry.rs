//! A registered value is masked in every form a line can carry it; a short one is not
//! registered, as documented.

use dozen_redact::{MARKER, MIN_SECRET_LEN, register, secrets};

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

//! Every Rust block of the guide is checked: those that are not doctests are
//! excerpts of the example apps, and each excerpt must stand, line for line
//! and in order, in the file it names, so a change to the example that the
//! guide quotes fails here until the guide follows.

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The pages `src/lib.rs` makes doctests of, as paths from the root.
fn doctest_pages() -> Vec<String> {
    let lib = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("src/lib.rs");
    lib.lines()
        .filter_map(|line| line.trim().strip_prefix("page!("))
        .filter_map(|rest| rest.split('"').nth(1))
        .map(str::to_owned)
        .collect()
}

/// Every Markdown page of the guide, and the README.
fn guide_pages() -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).expect("docs/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                let relative = path.strip_prefix(root).expect("under the root");
                out.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let root = root().canonicalize().expect("the workspace root");
    let mut pages = vec!["README.md".to_owned()];
    walk(&root.join("docs"), &root, &mut pages);
    pages.sort();
    pages
}

/// A fenced block: its info string, its first line's number and its lines.
struct Block {
    info: String,
    line: usize,
    body: Vec<String>,
}

fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (n, line) in text.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (None, Some(info)) => {
                open = Some(Block {
                    info: info.trim().to_owned(),
                    line: n + 1,
                    body: Vec::new(),
                });
            }
            (Some(_), Some(_)) => out.extend(open.take()),
            (Some(block), None) => block.body.push(line.to_owned()),
            (None, None) => {}
        }
    }
    out
}

/// Whether rustdoc compiles this block as a doctest.
fn is_doctest(info: &str) -> bool {
    let mut words = info.split(',').map(str::trim);
    words.next() == Some("rust") && !info.contains("ignore")
}

/// Checks one excerpt against the file its first line names; `Err` says why not.
fn check_excerpt(block: &Block) -> Result<(), String> {
    let first = block.body.first().map(|l| l.trim()).unwrap_or_default();
    // A snippet of another library, or one that needs files a doctest cannot
    // have, says so and why.
    if first
        .strip_prefix("// not compiled: ")
        .is_some_and(|why| !why.trim().is_empty())
    {
        return Ok(());
    }
    let Some(file) = first
        .strip_prefix("// ")
        .and_then(|rest| rest.split([' ', ',']).next())
        .filter(|f| f.starts_with("examples/") || f.starts_with("crates/"))
    else {
        return Err(
            "a `rust,ignore` block must be an excerpt (its first line `// examples/<file>`) \
             or say why it is not compiled (`// not compiled: <why>`)"
                .to_owned(),
        );
    };
    let source = fs::read_to_string(root().join(file)).map_err(|e| format!("{file}: {e}"))?;
    let haystack: Vec<&str> = source
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    // `// ...` in an excerpt stands for lines left out.
    let mut from = 0;
    let wanted: Vec<&str> = block.body[1..]
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect();
    for run in wanted.split(|l| *l == "// ...") {
        if run.is_empty() {
            continue;
        }
        let found = (from..haystack.len().saturating_sub(run.len() - 1))
            .find(|&at| haystack[at..at + run.len()] == *run);
        match found {
            Some(at) => from = at + run.len(),
            None => {
                return Err(format!(
                    "not in {file} (in this order): starting at {:?}",
                    run[0]
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn every_page_of_the_guide_is_a_doctest_page() {
    let mut listed = doctest_pages();
    listed.sort();
    assert_eq!(
        listed,
        guide_pages(),
        "src/lib.rs must list every Markdown page (add a `page!` line)"
    );
}

#[test]
fn every_rust_block_is_compiled_or_an_excerpt_of_compiled_code() {
    let mut problems = Vec::new();
    let mut excerpts = 0;
    for page in guide_pages() {
        let text = fs::read_to_string(root().join(&page)).expect("a readable page");
        for block in blocks(&text) {
            if !block.info.starts_with("rust") || is_doctest(&block.info) {
                continue;
            }
            excerpts += 1;
            if let Err(why) = check_excerpt(&block) {
                problems.push(format!("{page}:{}: {why}", block.line));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(excerpts > 0, "no excerpt was checked: is the parser right?");
}

/// The checker itself: an excerpt that moved or changed is caught.
#[test]
fn a_changed_excerpt_is_caught() {
    let block = |lines: &[&str]| Block {
        info: "rust,ignore".to_owned(),
        line: 1,
        body: lines.iter().map(|&l| l.to_owned()).collect(),
    };
    let file = "// crates/dozen-guide-tests/tests/it/excerpts.rs";
    assert!(check_excerpt(&block(&[file, "fn root() -> PathBuf {"])).is_ok());
    assert!(
        check_excerpt(&block(&[
            file,
            "fn root() -> PathBuf {",
            "// ...",
            "fn blocks(text: &str) -> Vec<Block> {"
        ]))
        .is_ok()
    );
    assert!(check_excerpt(&block(&[file, "fn root() -> PathBuff {"])).is_err());
    assert!(
        check_excerpt(&block(&[
            file,
            "fn blocks(text: &str) -> Vec<Block> {",
            "// ...",
            "fn root() -> PathBuf {"
        ]))
        .is_err(),
        "out of order"
    );
    assert!(
        check_excerpt(&block(&["let x = 1;"])).is_err(),
        "no file named"
    );
}

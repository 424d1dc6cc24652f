//! Executed guides: every shell block of a Markdown page marked
//! `<!-- walk: NAME -->` runs against the real binaries, and its output must
//! be what the page shows. The page and the test are one source: a change to
//! either that makes them disagree fails the test.
//!
//! A walked block is a `console` block: `$ command` lines, each followed by
//! the output it must give. In the output, `[..]` stands for any text within
//! a line (an id, a time) and a line `...` for any number of lines. Each block
//! runs in a fresh `bash` (so it can be pasted as it stands), in an empty
//! directory, with stderr joined to stdout. The test substitutes what differs
//! from a reader's machine, and nothing else: the built binary for its
//! `cargo run -q -p PACKAGE`, nothing for its `cargo build -q -p PACKAGE`
//! (the test has built it) and the test's port for `localhost:8080` and
//! `PORT=8080`.
//!
//! Why a harness of our own rather than trycmd: trycmd runs one program per
//! case with no shell, so it cannot keep a server running beside the calls,
//! nor pipe `curl` into `sed` as a reader does; this one is a parser of fenced
//! blocks and a line matcher.

use std::path::Path;
use std::process::Command;

/// A walked block: its name, where it starts, and its commands, each with
/// the output it must give.
#[derive(Debug)]
pub struct Block {
    /// The name in its `<!-- walk: NAME -->` marker.
    pub name: String,
    /// The line of the page where its commands start.
    pub line: usize,
    /// Each command (without `$ `) and the lines it must print.
    pub steps: Vec<(String, Vec<String>)>,
}

/// The walked blocks of the Markdown page at `page`.
///
/// # Panics
///
/// When the page cannot be read, a marker does not stand just above a
/// `console` block, or output comes before any command.
#[must_use]
pub fn blocks(page: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(page)
        .unwrap_or_else(|e| panic!("{}: cannot read: {e}", page.display()));
    let file = page
        .file_name()
        .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(name) = lines[i]
            .trim()
            .strip_prefix("<!-- walk:")
            .and_then(|rest| rest.strip_suffix("-->"))
        else {
            i += 1;
            continue;
        };
        assert_eq!(
            lines.get(i + 1).map(|l| l.trim()),
            Some("```console"),
            "{file}:{}: a walk marker must stand just above a ```console block",
            i + 1
        );
        let mut block = Block {
            name: name.trim().to_owned(),
            line: i + 2,
            steps: Vec::new(),
        };
        i += 2;
        while i < lines.len() && lines[i].trim() != "```" {
            if let Some(command) = lines[i].strip_prefix("$ ") {
                block.steps.push((command.to_owned(), Vec::new()));
            } else {
                let step = block
                    .steps
                    .last_mut()
                    .unwrap_or_else(|| panic!("{file}:{}: output before any command", i + 1));
                step.1.push(lines[i].to_owned());
            }
            i += 1;
        }
        out.push(block);
    }
    out
}

/// Whether `line` matches `pattern`, where `[..]` stands for any text.
#[must_use]
pub fn line_matches(pattern: &str, line: &str) -> bool {
    let mut parts = pattern.split("[..]");
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (n, part) in parts.iter().enumerate() {
        if n + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// Whether `lines` match `expected`, where a line `...` stands for any lines.
#[must_use]
pub fn output_matches(expected: &[String], lines: &[&str]) -> bool {
    match expected.split_first() {
        None => lines.is_empty(),
        Some((first, rest)) if first == "..." => {
            (0..=lines.len()).any(|skip| output_matches(rest, &lines[skip..]))
        }
        Some((first, rest)) => lines
            .split_first()
            .is_some_and(|(line, more)| line_matches(first, line) && output_matches(rest, more)),
    }
}

/// How a walk runs a page's blocks on this machine.
#[derive(Debug, Default)]
pub struct Walk<'a> {
    /// `cargo run -q -p PACKAGE` and the path of the binary built for it.
    binaries: Vec<(&'a str, &'a str)>,
    port: Option<u16>,
    env: Vec<(&'a str, &'a str)>,
}

impl<'a> Walk<'a> {
    /// A walk with no substitution and no variable.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `binary` for `cargo run -q -p package` (and its `--`), and
    /// nothing for `cargo build -q -p package`.
    #[must_use]
    pub fn binary(mut self, package: &'a str, binary: &'a str) -> Self {
        self.binaries.push((package, binary));
        self
    }

    /// Points `localhost:8080` at `port`, and starts `PORT=8080` there.
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Sets `name` to `value` in each block's shell (the environment is
    /// otherwise empty but for `PATH`).
    #[must_use]
    pub fn env(mut self, name: &'a str, value: &'a str) -> Self {
        self.env.push((name, value));
        self
    }

    /// Runs every block of `page` named `name`; how many there were.
    ///
    /// # Panics
    ///
    /// When a block stops early or a command's output differs from the page.
    pub fn run(&self, page: &Path, name: &str) -> usize {
        let blocks: Vec<Block> = blocks(page)
            .into_iter()
            .filter(|b| b.name == name)
            .collect();
        let file = page
            .file_name()
            .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
        for block in &blocks {
            self.block(&file, block);
        }
        blocks.len()
    }

    fn command(&self, command: &str) -> String {
        let mut command = command.to_owned();
        for (package, binary) in &self.binaries {
            command = command.replace(&format!("cargo build -q -p {package}"), ":");
            let cargo = format!("cargo run -q -p {package}");
            command = command
                .replace(&format!("{cargo} --"), binary)
                .replace(&cargo, binary);
        }
        if let Some(port) = self.port {
            command = command
                .replace("localhost:8080", &format!("localhost:{port}"))
                .replace("PORT=8080", &format!("PORT={port}"));
        }
        command
    }

    fn block(&self, file: &str, block: &Block) {
        const SEPARATOR: &str = "\u{1e}walk-step\u{1e}";
        let mut script = String::new();
        for (command, _) in &block.steps {
            // The separator keeps `$?` for the next command (`echo $?`).
            script.push_str(&format!(
                "walk_status=$?; printf '%s\\n' '{SEPARATOR}'; (exit $walk_status)\n{}\n",
                self.command(command)
            ));
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut bash = Command::new("bash");
        bash.arg("-c")
            .arg(format!("exec 2>&1\n{script}"))
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        for (k, v) in &self.env {
            bash.env(k, v);
        }
        let out = bash.output().expect("bash runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let outputs: Vec<&str> = stdout.split(&format!("{SEPARATOR}\n")).skip(1).collect();
        assert_eq!(
            outputs.len(),
            block.steps.len(),
            "{file}:{} ({}): the block stopped early:\n{stdout}",
            block.line,
            block.name
        );
        for ((command, expected), got) in block.steps.iter().zip(outputs) {
            let got_lines: Vec<&str> = got.lines().map(str::trim_end).collect();
            let expected: Vec<String> = expected.iter().map(|l| l.trim_end().to_owned()).collect();
            assert!(
                output_matches(&expected, &got_lines),
                "{file}:{} ({}): `$ {command}` gave\n{got}\nwhere the page shows\n{}",
                block.line,
                block.name,
                expected.join("\n")
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matcher_tells_a_difference() {
        let lines = |s: &[&str]| s.iter().map(|&l| l.to_owned()).collect::<Vec<_>>();
        assert!(line_matches(
            r#"{"id":[..],"done":false}"#,
            r#"{"id":17,"done":false}"#
        ));
        assert!(!line_matches(
            r#"{"id":[..],"done":false}"#,
            r#"{"id":17,"done":true}"#
        ));
        assert!(line_matches("applied V1 ([..]s)", "applied V1 (0.012s)"));
        assert!(!line_matches("exit 0", "exit 0 and more"));
        assert!(output_matches(
            &lines(&["a", "...", "z"]),
            &["a", "b", "c", "z"]
        ));
        assert!(!output_matches(&lines(&["a", "z"]), &["a", "b", "z"]));
        assert!(!output_matches(&lines(&["a"]), &[]));
    }

    #[test]
    fn a_block_runs_in_bash_and_its_output_is_compared() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let page = dir.path().join("page.md");
        std::fs::write(
            &page,
            "<!-- walk: ok -->\n```console\n$ echo \"hi $WHO\"\nhi [..]\n$ false\n$ echo $?\n1\n```\n\
             <!-- walk: wrong -->\n```console\n$ echo one\ntwo\n```\n",
        )
        .expect("write the page");
        assert_eq!(Walk::new().env("WHO", "you").run(&page, "ok"), 1);
        let wrong = std::panic::catch_unwind(|| Walk::new().run(&page, "wrong"));
        assert!(wrong.is_err(), "a difference must fail");
    }
}

//! "Did you mean": the nearest known name within edit distance 2.

/// The known name nearest to `name` (optimal string alignment distance, so a
/// swap of two letters counts once), if within 2.
pub(crate) fn nearest(name: &str, known: &[String]) -> Option<String> {
    let mut best: Option<(usize, &String)> = None;
    for candidate in known {
        if candidate.len().abs_diff(name.len()) > 2 {
            continue;
        }
        let d = distance(name, candidate);
        if d <= 2 && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, candidate));
        }
    }
    best.map(|(_, name)| name.clone())
}

fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = v;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    #[test]
    fn distances() {
        for (a, b, d) in [
            ("APP_DATABSE_URL", "APP_DATABASE_URL", 1),
            ("APP_PROT", "APP_PORT", 1),
            ("APP_PORT", "APP_PORT", 0),
            ("APP_X", "APP_XYZ", 2),
            ("", "AB", 2),
        ] {
            assert_eq!(super::distance(a, b), d, "{a} {b}");
        }
    }
}

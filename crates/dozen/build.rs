//! One name for a condition of features: `dozen_database` when a database
//! can be attached (the `backing` feature and a driver), so the code says
//! it once instead of spelling the features out at every use.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(dozen_database)");
    let on = |feature: &str| std::env::var_os(format!("CARGO_FEATURE_{feature}")).is_some();
    if on("BACKING") && ["POSTGRES", "MYSQL", "SQLITE", "ANY"].into_iter().any(on) {
        println!("cargo::rustc-cfg=dozen_database");
    }
}

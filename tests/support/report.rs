//! How a test reports a figure (how many cases a property test or a fuzz target ran): on stdout,
//! which cargo shows with `--nocapture`, and appended to the file `ZT_CASE_LOG` names, which
//! scripts/test.sh prints after the run whatever cargo captured.

use std::io::Write;

pub fn report(line: &str) {
    println!("{line}");
    if let Some(path) = std::env::var_os("ZT_CASE_LOG") {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path);
        if let Ok(mut file) = file {
            let _ = writeln!(file, "{line}");
        }
    }
}

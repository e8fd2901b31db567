//! The crate's layers, checked: each top-level folder of `src/` is a layer and may import only
//! the layers below it (protocol -> codec -> model -> typed -> server -> modules), `pki` is a
//! library of pure key and certificate functions that imports none of them, and no layer below
//! `modules` names the package it serves. A second test plants violations in a made-up tree to
//! show the check finds them.

use std::path::{Path, PathBuf};

/// The provider layers, lowest first.
const LAYERS: &[&str] = &["protocol", "codec", "model", "typed", "server", "modules"];
/// Libraries beside the layers: usable from `modules`, importing nothing of the crate.
const LIBRARIES: &[&str] = &["pki"];
/// Test helpers (`#[cfg(test)]`), usable from anywhere, importing nothing of the crate.
const HELPERS: &[&str] = &["testing"];
/// The word the core must not know: the package is the top layer's business.
const PACKAGE_NAME: &str = "zerotrust";

/// What a file of the crate is, from its path under `src/`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Part {
    Layer(usize),
    Library,
    Helper,
    /// `lib.rs` and `main.rs`: they assemble everything.
    Root,
}

fn part_of_name(name: &str) -> Option<Part> {
    if let Some(rank) = LAYERS.iter().position(|l| *l == name) {
        return Some(Part::Layer(rank));
    }
    if LIBRARIES.contains(&name) {
        return Some(Part::Library);
    }
    if HELPERS.contains(&name) {
        return Some(Part::Helper);
    }
    None
}

/// The part a file belongs to: its first folder under `src/`, or its own name for a top file.
fn part_of_file(relative: &Path) -> Option<Part> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    match name {
        "lib" | "main" => Some(Part::Root),
        _ => part_of_name(name),
    }
}

fn may_import(from: Part, to: Part) -> bool {
    match (from, to) {
        (Part::Root, _) | (_, Part::Helper) => true,
        (Part::Layer(a), Part::Layer(b)) => b <= a,
        (Part::Layer(a), Part::Library) => a == LAYERS.len() - 1,
        (Part::Library, Part::Library) => true,
        _ => false,
    }
}

/// Strips a trailing `//` comment (not inside a string literal, which is good enough for paths).
fn code_of(line: &str) -> &str {
    let trimmed = line.trim_start();
    if trimmed.starts_with("//") {
        return "";
    }
    let mut in_string = false;
    let bytes = line.as_bytes();
    for i in 0..bytes.len() {
        match bytes[i] {
            b'"' if i == 0 || bytes[i - 1] != b'\\' => in_string = !in_string,
            b'/' if !in_string && bytes.get(i + 1) == Some(&b'/') => return &line[..i],
            _ => {}
        }
    }
    line
}

/// Every `crate::<name>` in a line of code.
fn crate_paths(code: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        let tail = &rest[at + "crate::".len()..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        // `$crate::` in macros and `some_crate::` are not paths into this crate.
        if !matches!(before, Some(c) if c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            found.push(&tail[..end]);
        }
        rest = &tail[end..];
    }
    found
}

/// Every broken rule in `files` (paths relative to `src/`, with their text), one line each.
fn violations(files: &[(PathBuf, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for (path, text) in files {
        let Some(from) = part_of_file(path) else {
            found.push(format!(
                "{}: not in a layer; put it under one of {LAYERS:?} or {LIBRARIES:?}",
                path.display()
            ));
            continue;
        };
        for (number, line) in text.lines().enumerate() {
            let code = code_of(line);
            for target in crate_paths(code) {
                let allowed = match part_of_name(target) {
                    Some(to) => may_import(from, to),
                    None => false,
                };
                if !allowed {
                    found.push(format!(
                        "{}:{}: {from:?} imports crate::{target}",
                        path.display(),
                        number + 1
                    ));
                }
            }
            let names_package = line.to_ascii_lowercase().contains(PACKAGE_NAME);
            if names_package && matches!(from, Part::Layer(rank) if rank < LAYERS.len() - 1) {
                found.push(format!(
                    "{}:{}: {from:?} names {PACKAGE_NAME}; the package belongs to modules",
                    path.display(),
                    number + 1
                ));
            }
        }
    }
    found
}

fn rust_files(dir: &Path, base: &Path, out: &mut Vec<(PathBuf, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, base, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            let relative = path.strip_prefix(base).unwrap_or(&path).to_path_buf();
            out.push((relative, text));
        }
    }
}

#[test]
fn layers_import_only_downward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &src, &mut files);
    assert!(
        files.len() > 50,
        "found only {} files under src/",
        files.len()
    );
    let found = violations(&files);
    assert!(
        found.is_empty(),
        "layer rules broken:\n{}",
        found.join("\n")
    );
}

#[test]
fn planted_violations_are_found() {
    let file = |path: &str, text: &str| (PathBuf::from(path), text.to_string());
    let tree = vec![
        file(
            "typed/mod.rs",
            "use crate::model::Failures;\nuse crate::codec::PropertyMap;\n",
        ),
        // Upward: typed reaching into server, and model into modules.
        file("typed/erased.rs", "use crate::server::Registry;\n"),
        file(
            "model/schema.rs",
            "fn f() { let _ = crate::modules::registry(); }\n",
        ),
        // The core naming the package, in code.
        file("server/service.rs", "const NAME: &str = \"zerotrust\";\n"),
        // pki is a library: it may not use the provider layers.
        file(
            "pki/keys.rs",
            "use crate::typed::Secret;\nuse crate::pki::der;\n",
        ),
        file(
            "modules/tls/mod.rs",
            "use crate::pki::keys;\nuse crate::server::Registry;\n",
        ),
        file("stray.rs", "fn f() {}\n"),
        // Comments and other crates' paths are not imports.
        file(
            "codec/mod.rs",
            "// see crate::modules\nuse tonic::codegen::http;\n",
        ),
        file(
            "protocol/mod.rs",
            "macro_rules! m { () => { $crate::x }; }\n",
        ),
    ];
    let found = violations(&tree);
    let expect = [
        "typed/erased.rs:1: Layer(3) imports crate::server",
        "model/schema.rs:1: Layer(2) imports crate::modules",
        "server/service.rs:1: Layer(4) names zerotrust",
        "pki/keys.rs:1: Library imports crate::typed",
        "stray.rs: not in a layer",
    ];
    for e in expect {
        assert!(
            found.iter().any(|f| f.starts_with(e)),
            "expected {e:?} among {found:#?}"
        );
    }
    assert_eq!(found.len(), expect.len(), "unexpected findings: {found:#?}");
}

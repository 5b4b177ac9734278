//! The shape of the code, checked: the engine's module graph has no cycle, no hand-written
//! engine file grows past 800 lines (before its tests), the front ends (CLI, HTTP API, desktop shell)
//! reach the engine through its `api` module only, and every dependency a crate declares is
//! used by it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("a source folder") {
            let path = entry.expect("a folder entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A file's text before its unit tests (`#[cfg(test)] mod tests`).
fn before_tests(text: &str) -> &str {
    match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    }
}

/// The top-level module a file of the engine belongs to (`dump/plan.rs` → `dump`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel
        .components()
        .next()
        .expect("a path")
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    first.trim_end_matches(".rs").to_owned()
}

/// The top-level engine modules a text names as `crate::name`, also inside `use crate::{…}`.
fn named_modules(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find("};").unwrap_or(group.len());
            for part in group[..end].split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            out.insert(name);
        }
    }
    out
}

#[test]
fn the_engine_module_graph_has_no_cycle() {
    let src = repo().join("crates/engine/src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(&src) {
        let module = module_of(&src, &file);
        if module == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("a source file");
        let deps = named_modules(before_tests(&text));
        graph.entry(module).or_default().extend(deps);
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for (module, deps) in graph.iter_mut() {
        deps.retain(|d| d != module && modules.contains(d));
    }
    assert!(
        graph.len() > 20,
        "the engine should have its modules listed, found {:?}",
        graph.keys()
    );
    // Remove modules that depend on nothing left, until none can be removed.
    let mut left = graph.clone();
    loop {
        let leaves: Vec<String> = left
            .iter()
            .filter(|(_, deps)| deps.iter().all(|d| !left.contains_key(d)))
            .map(|(m, _)| m.clone())
            .collect();
        if leaves.is_empty() {
            break;
        }
        for leaf in leaves {
            left.remove(&leaf);
        }
    }
    let cycle: Vec<String> = left
        .iter()
        .map(|(m, deps)| {
            let inside: Vec<&String> = deps.iter().filter(|d| left.contains_key(*d)).collect();
            format!("{m} -> {inside:?}")
        })
        .collect();
    assert!(
        left.is_empty(),
        "the engine's modules should not depend on each other in a circle; these do:\n{}",
        cycle.join("\n")
    );
}

#[test]
fn no_engine_source_file_is_over_800_lines_before_its_tests() {
    let src = repo().join("crates/engine/src");
    let long: Vec<String> = rust_files(&src)
        .into_iter()
        .filter_map(|file| {
            let text = std::fs::read_to_string(&file).expect("a source file");
            let lines = before_tests(&text).lines().count();
            (lines > 800).then(|| format!("{} ({lines} lines)", file.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "each engine file should stay under 800 lines before its tests; split these: {long:?}"
    );
}

#[test]
fn the_front_ends_reach_the_engine_through_its_api_only() {
    const ALLOWED: [&str; 7] = [
        "api",
        "Error",
        "ErrorCode",
        "Result",
        "error",
        "init_logging",
        "log_dir",
    ];
    let mut found = Vec::new();
    let mut files = 0;
    for dir in ["crates/cli/src", "crates/http/src", "src-tauri/src"] {
        for file in rust_files(&repo().join(dir)) {
            files += 1;
            let text = std::fs::read_to_string(&file).expect("a source file");
            let mut rest = text.as_str();
            while let Some(i) = rest.find("billora_engine::") {
                rest = &rest[i + "billora_engine::".len()..];
                let names: Vec<String> = if let Some(group) = rest.strip_prefix('{') {
                    let end = group.find('}').unwrap_or(group.len());
                    group[..end]
                        .split(',')
                        .map(|p| p.trim().split("::").next().unwrap_or("").to_owned())
                        .filter(|p| !p.is_empty())
                        .collect()
                } else {
                    vec![rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect()]
                };
                for name in names {
                    if !ALLOWED.contains(&name.as_str()) {
                        found.push(format!("{}: billora_engine::{name}", file.display()));
                    }
                }
            }
        }
    }
    assert!(
        files >= 5,
        "the front ends' sources should be found, found {files}"
    );
    assert!(
        found.is_empty(),
        "the CLI and the desktop shell should call the engine through billora_engine::api \
         (add what they need there); these reach past it:\n{}",
        found.join("\n")
    );
}

/// The `[dependencies]` (and target-specific dependencies) a Cargo.toml declares.
fn declared_dependencies(manifest: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_deps = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]"
                || (line.starts_with("[target.") && line.ends_with(".dependencies]"));
            continue;
        }
        if in_deps {
            if let Some((name, _)) = line.split_once('=') {
                let name = name.trim().trim_end_matches(".workspace").to_owned();
                if !name.is_empty() && !name.starts_with('#') {
                    out.push(name);
                }
            }
        }
    }
    out
}

#[test]
fn every_declared_dependency_is_used() {
    // Crates used only through their features or by name in a build script's output.
    const INDIRECT: [&str; 2] = [
        // Enables the SFTP service of opendal on Unix (a feature, no code of its own).
        "opendal",
        // Tauri's plugins are registered by name in main.rs; serde_json through tauri's json.
        "tauri-build",
    ];
    let mut unused = Vec::new();
    for krate in ["crates/engine", "crates/cli", "crates/http", "src-tauri"] {
        let dir = repo().join(krate);
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("a Cargo.toml");
        let mut text = String::new();
        for file in rust_files(&dir.join("src")) {
            text.push_str(&std::fs::read_to_string(file).expect("a source file"));
        }
        if let Ok(build) = std::fs::read_to_string(dir.join("build.rs")) {
            text.push_str(&build);
        }
        for dep in declared_dependencies(&manifest) {
            let ident = dep.replace('-', "_");
            let used = text.contains(&format!("{ident}::"))
                || text.contains(&format!("use {ident}"))
                || text.contains(&format!("{ident}!"))
                || INDIRECT.contains(&dep.as_str());
            if !used {
                unused.push(format!("{krate}: {dep}"));
            }
        }
    }
    assert!(
        unused.is_empty(),
        "every dependency a crate declares should be used by its code; remove these: {unused:?}"
    );
}

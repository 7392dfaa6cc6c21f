//! `cargo xtask layout` (part of `ci`): each crate's files form no import
//! cycle, and no hand-written file is long.
//!
//! A file's edges are the `crate::…` and `super::…` paths it names outside
//! its tests (a `use`, or a path in code), each resolved to the file of the
//! longest module prefix it names. A cycle between files means a concept
//! sits in the wrong file: the check names the files of each cycle and one
//! path that closes it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lines of code (tests and the module's own docs excluded) a hand-written file may hold.
const MAX_LINES: usize = 400;

/// Generated files, not held to the length.
const GENERATED: &[&str] = &["crates/oci-genai-transport/src/models.rs"];

pub fn layout(root: &Path) -> Result<(), String> {
    let mut problems = Vec::new();
    let mut crates: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .map_err(|e| format!("cannot list crates/: {e}"))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    crates.push(root.join("xtask"));
    crates.sort();
    for krate in crates {
        let src = krate.join("src");
        let entry = ["lib.rs", "main.rs"].iter().map(|f| src.join(f)).find(|p| p.exists());
        let Some(_) = entry else { continue };
        let files = module_files(&src)?;
        let graph = edges(&files);
        for cycle in cycles(&graph) {
            let steps: Vec<String> = cycle
                .windows(2)
                .map(|pair| {
                    let named = named_paths(&files, &pair[0], &pair[1]);
                    format!("{} (uses {})", file_name(&files, &pair[0], root), named.join(", "))
                })
                .collect();
            problems.push(format!("import cycle: {} -> back", steps.join(" -> ")));
        }
        for (module, path) in &files {
            let relative = path.strip_prefix(root).unwrap_or(path).to_string_lossy().replace('\\', "/");
            if GENERATED.contains(&relative.as_str()) {
                continue;
            }
            let text = std::fs::read_to_string(path).map_err(|e| format!("{relative}: {e}"))?;
            let lines = code_lines(&text);
            if lines > MAX_LINES && module.last().is_none_or(|m| m != "tests") {
                problems.push(format!("{relative}: {lines} lines of code (at most {MAX_LINES}): split it by concept"));
            }
        }
    }
    if problems.is_empty() {
        eprintln!("no import cycle between files, no file over {MAX_LINES} lines of code");
        Ok(())
    } else {
        for problem in &problems {
            eprintln!("  {problem}");
        }
        Err(format!("{} layout problem(s)", problems.len()))
    }
}

type Module = Vec<String>;

/// Every module file under `src`, by module path (`lib.rs`/`main.rs`: the root).
fn module_files(src: &Path) -> Result<BTreeMap<Module, PathBuf>, String> {
    let mut files = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                // `src/bin` holds separate crates.
                if path.file_name().is_some_and(|n| n != "bin") {
                    stack.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).map_err(|e| e.to_string())?;
            let mut module: Module =
                relative.iter().map(|part| part.to_string_lossy().trim_end_matches(".rs").to_owned()).collect();
            if matches!(module.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                module.pop();
            }
            // A binary beside a library is its own crate; only the library's tree is checked.
            if relative == Path::new("main.rs") && src.join("lib.rs").exists() {
                continue;
            }
            files.insert(module, path);
        }
    }
    Ok(files)
}

/// The file each file names, outside its tests.
fn edges(files: &BTreeMap<Module, PathBuf>) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut graph = BTreeMap::new();
    for (module, path) in files {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let mut targets = BTreeSet::new();
        for full in paths(&without_tests(&text), module) {
            if let Some(target) = owner(files, &full).filter(|t| t != module) {
                targets.insert(target);
            }
        }
        graph.insert(module.clone(), targets);
    }
    graph
}

/// The paths `from` names that `to` holds.
fn named_paths(files: &BTreeMap<Module, PathBuf>, from: &Module, to: &Module) -> Vec<String> {
    let text = files.get(from).and_then(|p| std::fs::read_to_string(p).ok()).unwrap_or_default();
    let named: BTreeSet<String> = paths(&without_tests(&text), from)
        .into_iter()
        .filter(|path| owner(files, path).as_ref() == Some(to))
        .map(|path| format!("crate::{}", path.join("::")))
        .collect();
    named.into_iter().collect()
}

/// The module file that holds `path`: its longest prefix that is one.
fn owner(files: &BTreeMap<Module, PathBuf>, path: &[String]) -> Option<Module> {
    (0..=path.len()).rev().map(|n| path[..n].to_vec()).find(|prefix| files.contains_key(prefix))
}

/// The text before the file's first `#[cfg(test)]`-style module (tests come last, as clippy requires).
fn without_tests(text: &str) -> String {
    let mut kept = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(") && trimmed.contains("test") {
            let next = lines.peek().map(|l| l.trim_start()).unwrap_or_default();
            if next.starts_with("mod ") || next.starts_with("pub mod ") || next.starts_with("pub(crate) mod ") {
                break;
            }
        }
        let code = trimmed.split("//").next().unwrap_or_default();
        kept.push_str(code);
        kept.push('\n');
    }
    kept
}

/// Lines of code: neither blank nor comments, before the tests.
fn code_lines(text: &str) -> usize {
    without_tests(text).lines().filter(|l| !l.trim().is_empty()).count()
}

/// Every absolute module path `text` names through `crate::`, `super::` or
/// (in a `use`) `self::`, braces expanded.
fn paths(text: &str, module: &Module) -> Vec<Vec<String>> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let at_word_start = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let base = if !at_word_start {
            None
        } else if text.as_bytes()[i..].starts_with(b"crate::") {
            i += "crate::".len();
            Some(Vec::new())
        } else if text.as_bytes()[i..].starts_with(b"super::") {
            let mut base = module.clone();
            while text.as_bytes()[i..].starts_with(b"super::") {
                i += "super::".len();
                base.pop();
            }
            Some(base)
        } else {
            None
        };
        match base {
            Some(base) => i = tree(text, i, &base, &mut found),
            None => i += 1,
        }
    }
    found
}

/// Reads one use-tree at `i` under `prefix` into `out`; returns where it ends.
fn tree(text: &str, mut i: usize, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
    let bytes = text.as_bytes();
    let mut path = prefix.to_vec();
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'{' {
            i += 1;
            loop {
                i = tree(text, i, &path, out);
                while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b',') {
                    i += 1;
                }
                if i >= bytes.len() || bytes[i] == b'}' {
                    return i + 1;
                }
            }
        }
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
        if start == i {
            // `*`, or the end of the path.
            if i < bytes.len() && bytes[i] == b'*' {
                i += 1;
            }
            break;
        }
        let segment = &text[start..i];
        if segment != "self" {
            path.push(segment.to_owned());
        }
        if text.as_bytes()[i..].starts_with(b"::") {
            i += 2;
        } else {
            break;
        }
    }
    out.push(path);
    i
}

/// The cycles among the graph's files: each strongly connected component of
/// two or more files, as one path around it.
fn cycles(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    let nodes: Vec<&Module> = graph.keys().collect();
    let index_of: BTreeMap<&Module, usize> = nodes.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let adjacency: Vec<Vec<usize>> =
        nodes.iter().map(|m| graph[*m].iter().filter_map(|t| index_of.get(t).copied()).collect()).collect();
    let mut found = Vec::new();
    for component in strongly_connected(&adjacency) {
        if component.len() < 2 {
            continue;
        }
        let members: BTreeSet<usize> = component.iter().copied().collect();
        let start = component[0];
        let mut cycle = vec![start];
        // Walk inside the component back to the start (breadth-first, shortest way round).
        let mut previous = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        'search: while let Some(node) = queue.pop_front() {
            for &next in &adjacency[node] {
                if !members.contains(&next) {
                    continue;
                }
                if next == start {
                    let mut way = vec![node];
                    while let Some(&before) = previous.get(way.last().unwrap_or(&start)) {
                        way.push(before);
                    }
                    way.reverse();
                    cycle = way.into_iter().filter(|n| *n != start).collect();
                    cycle.insert(0, start);
                    break 'search;
                }
                if next != start && !previous.contains_key(&next) {
                    previous.insert(next, node);
                    queue.push_back(next);
                }
            }
        }
        cycle.push(start);
        found.push(cycle.into_iter().map(|n| nodes[n].clone()).collect());
    }
    found
}

/// Tarjan's strongly connected components.
fn strongly_connected(adjacency: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        adjacency: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        components: Vec<Vec<usize>>,
    }
    fn visit(state: &mut State<'_>, node: usize) {
        state.index[node] = Some(state.next);
        state.low[node] = state.next;
        state.next += 1;
        state.stack.push(node);
        state.on_stack[node] = true;
        for &next in &state.adjacency[node] {
            match state.index[next] {
                None => {
                    visit(state, next);
                    state.low[node] = state.low[node].min(state.low[next]);
                }
                Some(index) if state.on_stack[next] => state.low[node] = state.low[node].min(index),
                Some(_) => {}
            }
        }
        if Some(state.low[node]) == state.index[node] {
            let mut component = Vec::new();
            while let Some(top) = state.stack.pop() {
                state.on_stack[top] = false;
                component.push(top);
                if top == node {
                    break;
                }
            }
            component.reverse();
            state.components.push(component);
        }
    }
    let n = adjacency.len();
    let mut state = State {
        adjacency,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        components: Vec::new(),
    };
    for node in 0..n {
        if state.index[node].is_none() {
            visit(&mut state, node);
        }
    }
    state.components
}

fn file_name(files: &BTreeMap<Module, PathBuf>, module: &Module, root: &Path) -> String {
    files
        .get(module)
        .map(|p| p.strip_prefix(root).unwrap_or(p).to_string_lossy().into_owned())
        .unwrap_or_else(|| module.join("::"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(path: &str) -> Module {
        path.split("::").filter(|s| !s.is_empty()).map(str::to_owned).collect()
    }

    #[test]
    fn use_trees_expand_to_full_paths() {
        let found = paths("use crate::a::{b::C, d, self};\nlet x = super::e::f();", &m("x::y"));
        assert_eq!(found, vec![m("a::b::C"), m("a::d"), m("a"), m("x::e::f")]);
    }

    #[test]
    fn a_two_file_cycle_is_found_and_a_chain_is_not() {
        let graph = BTreeMap::from([
            (m("a"), BTreeSet::from([m("b")])),
            (m("b"), BTreeSet::from([m("a")])),
            (m("c"), BTreeSet::from([m("a")])),
        ]);
        assert_eq!(cycles(&graph), vec![vec![m("a"), m("b"), m("a")]]);
    }

    #[test]
    fn tests_and_comments_are_not_edges() {
        let text = "use crate::a;\n// crate::b\n#[cfg(test)]\nmod tests {\n use crate::c;\n}\n";
        assert_eq!(paths(&without_tests(text), &m("")), vec![m("a")]);
    }
}

//! The shape of the code, checked: within every crate, the top-level modules' imports
//! of each other (`crate::name`) form no circle, so each crate reads as a straight line
//! from its leaf modules to its entry points.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

mod support;

/// Module -> the crate's other top-level modules it names as `crate::<module>`.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// The top-level modules of a crate's `src` and what each uses. A module folder
/// (`name/mod.rs` and its files) counts as the one module `name`.
fn module_graph(src: &Path) -> Graph {
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    for entry in fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            let mut text = String::new();
            for f in fs::read_dir(&path).unwrap() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|e| e == "rs") {
                    text += &fs::read_to_string(&f).unwrap();
                }
            }
            files.insert(name, text);
        } else if path.extension().is_some_and(|e| e == "rs") && name != "lib" && name != "main" {
            files.insert(name, fs::read_to_string(&path).unwrap());
        }
    }
    let names: BTreeSet<String> = files.keys().cloned().collect();
    files
        .iter()
        .map(|(module, text)| {
            let uses = names
                .iter()
                .filter(|other| *other != module && names_module(text, other))
                .cloned()
                .collect();
            (module.clone(), uses)
        })
        .collect()
}

/// True when `text` names `crate::<module>` as a path (`crate::module::…`,
/// `crate::module;`, or inside a `crate::{…}` group), tests included.
fn names_module(text: &str, module: &str) -> bool {
    let direct = [
        format!("crate::{module}::"),
        format!("crate::{module};"),
        format!("crate::{module},"),
        format!("crate::{module}}}"),
    ];
    if direct.iter().any(|p| text.contains(p.as_str())) {
        return true;
    }
    // `use crate::{a, b::C};`
    text.match_indices("crate::{").any(|(i, _)| {
        let group = &text[i + 8..];
        let end = group.find("};").unwrap_or(group.len());
        group[..end]
            .split(',')
            .any(|item| item.trim().split("::").next() == Some(module))
    })
}

/// A circle of modules, if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_crate_has_modules_that_import_each_other_in_a_circle() {
    let crates = support::repo_root().join("crates");
    let mut circles = Vec::new();
    for entry in fs::read_dir(&crates).unwrap() {
        let src = entry.unwrap().path().join("src");
        if let Some(cycle) = find_cycle(&module_graph(&src)) {
            circles.push(format!("{}: {}", src.display(), cycle.join(" -> ")));
        }
    }
    assert!(
        circles.is_empty(),
        "module circles:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_checker_sees_a_circle_and_every_import_form() {
    assert!(names_module("use crate::state::ServerState;", "state"));
    assert!(names_module("use crate::{convert, error::E};", "error"));
    assert!(names_module("use crate::{convert, error::E};", "convert"));
    assert!(names_module("crate::metrics::METRICS.inc()", "metrics"));
    assert!(!names_module("use crate::statement::X;", "state"));
    let graph: Graph = [("a", "b"), ("b", "c"), ("c", "a")]
        .into_iter()
        .map(|(m, u)| (m.to_owned(), BTreeSet::from([u.to_owned()])))
        .collect();
    assert_eq!(
        find_cycle(&graph).unwrap(),
        ["a", "b", "c", "a"].map(String::from)
    );
    let line: Graph = [("a", "b"), ("b", "c")]
        .into_iter()
        .map(|(m, u)| (m.to_owned(), BTreeSet::from([u.to_owned()])))
        .collect();
    assert_eq!(find_cycle(&line), None);
}

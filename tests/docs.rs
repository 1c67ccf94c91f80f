//! The documentation stays what a reader can trust: the README is a short front door whose test
//! command is the one CI runs, and every relative link in the repository's Markdown leads to a
//! file that exists and, when it names a section, to a heading of that file.

use std::fs;
use std::path::{Path, PathBuf};

const README_MAX_BYTES: usize = 12 * 1024;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "corpus" && name != "artifacts" {
                markdown_files(&path, out);
            }
        } else if name.ends_with(".md") {
            out.push(path);
        }
    }
}

/// The text outside fenced code blocks, where a `](` is code, not a link.
fn prose(text: &str) -> String {
    let mut fenced = false;
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Targets of inline links `[text](target)`.
fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let Some(end) = after.find(')') else { break };
        found.push(after[..end].to_string());
        rest = &after[end..];
    }
    found
}

/// GitHub's anchor for a heading: lower case, spaces to hyphens, other punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c.to_lowercase().next().unwrap_or(c)),
            _ => None,
        })
        .collect()
}

fn anchors(text: &str) -> Vec<String> {
    prose(text)
        .lines()
        .filter(|line| line.starts_with('#'))
        .map(|line| anchor(line.trim_start_matches('#').replace('`', "").as_str()))
        .collect()
}

#[test]
fn readme_is_a_front_door_of_at_most_12_kib() {
    let size = fs::metadata(repo().join("README.md")).unwrap().len() as usize;
    assert!(size <= README_MAX_BYTES, "README.md is {size} bytes, the front door holds at most {README_MAX_BYTES}");
}

#[test]
fn readme_test_command_is_what_ci_runs() {
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let section = readme.split("## Run the tests").nth(1).expect("README has a \"Run the tests\" section");
    let command = section.split("```sh\n").nth(1).and_then(|s| s.split("\n```").next()).unwrap_or("");
    assert_eq!(command.trim(), ".ci/test", "the README's test command");
    let run = fs::read_to_string(repo().join(".ci/run")).unwrap();
    assert!(run.lines().any(|l| l.trim() == "exec .ci/test"), ".ci/run must run exactly .ci/test:\n{run}");
}

#[test]
fn every_relative_link_in_the_markdown_leads_to_a_file_and_heading_that_exist() {
    let root = repo();
    let mut files = Vec::new();
    markdown_files(&root, &mut files);
    assert!(files.len() >= 10, "found only {files:?}");
    let mut broken = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        for link in links(&prose(&text)) {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (path, section) = match link.split_once('#') {
                Some((path, section)) => (path, Some(section)),
                None => (link.as_str(), None),
            };
            let target = if path.is_empty() { file.clone() } else { file.parent().unwrap().join(path) };
            let from = file.strip_prefix(&root).unwrap().display().to_string();
            let Ok(target) = target.canonicalize() else {
                broken.push(format!("{from}: {link} (no such file)"));
                continue;
            };
            if let (Some(section), true) = (section, target.extension().is_some_and(|e| e == "md")) {
                let heads = anchors(&fs::read_to_string(&target).unwrap());
                if !heads.iter().any(|h| h == section) {
                    broken.push(format!("{from}: {link} (no such heading)"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

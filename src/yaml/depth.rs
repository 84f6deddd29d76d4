//! A nesting limit for YAML input: yaml-rust2 builds its event tree recursively, so a file nested
//! thousands of levels deep (`a:\n  b:\n    c: …`) overflowed the stack before any message could
//! be printed. Every YAML text is measured here before a parser that recurses sees it.
//!
//! The measure is cheap for real files: a bound from indentation and flow brackets, line by line;
//! only a text whose bound passes the limit is walked event by event (yaml-rust2's event parser is
//! a state machine, not a recursion) to find the exact depth and where it is passed.

use yaml_rust2::parser::{Event, Parser};

use super::Location;

/// How deep collections may nest. Real job, mapping and directory files need fewer than ten.
pub const MAX_DEPTH: usize = 100;

/// Where `text` first nests collections deeper than [`MAX_DEPTH`], if it does.
pub fn too_deep(text: &str) -> Option<Location> {
    if bound(text) <= MAX_DEPTH {
        return None;
    }
    let mut depth = 0usize;
    let mut parser = Parser::new_from_str(text);
    loop {
        let (event, mark) = match parser.next_token() {
            Ok(next) => next,
            // yaml-rust2's scanner refuses flow collections past 255 levels before the events
            // get here; that is this limit passed too (and libyaml, behind serde_yaml, would
            // spend minutes on such a text before its own limit).
            Err(e) if e.info() == "recursion limit exceeded" => {
                return Some(Location {
                    line: e.marker().line(),
                    column: e.marker().col() + 1,
                });
            }
            // Any other scan error ends the walk; the parser that reads the file reports it.
            Err(_) => return None,
        };
        match event {
            Event::StreamEnd => return None,
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(Location {
                        line: mark.line(),
                        column: mark.col() + 1,
                    });
                }
            }
            Event::MappingEnd | Event::SequenceEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
}

/// An upper bound of the nesting depth: each block level indents by at least one column (a `- `
/// counts as indentation), and flow collections add one level per open bracket. Brackets inside
/// quoted text only raise the bound, which costs an exact walk, never a wrong answer.
fn bound(text: &str) -> usize {
    let mut flow = 0usize;
    let mut deepest = 0usize;
    for line in text.lines() {
        let indent = line
            .chars()
            .take_while(|c| matches!(c, ' ' | '-' | '\t'))
            .count();
        let mut line_flow = flow;
        for c in line.chars() {
            match c {
                '[' | '{' => {
                    flow += 1;
                    line_flow = line_flow.max(flow);
                }
                ']' | '}' => flow = flow.saturating_sub(1),
                '#' => break,
                _ => {}
            }
        }
        // +1: the document's root collection.
        deepest = deepest.max(indent + line_flow + 1);
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested_blocks(levels: usize) -> String {
        let mut text = String::new();
        for i in 0..levels {
            text.push_str(&" ".repeat(2 * i));
            text.push_str(&format!("k{i}:\n"));
        }
        text.push_str(&" ".repeat(2 * levels));
        text.push_str("v\n");
        text
    }

    #[test]
    fn real_files_pass_without_a_walk() {
        let job = "directory: d.yaml\nsettings:\n  escrow_thresholds: { min_failures: 2 }\nusers:\n  - a: [b, c]\n";
        assert!(bound(job) <= MAX_DEPTH);
        assert_eq!(too_deep(job), None);
    }

    #[test]
    fn deep_block_nesting_is_located_where_the_limit_is_passed() {
        assert_eq!(too_deep(&nested_blocks(MAX_DEPTH - 1)), None);
        let at = too_deep(&nested_blocks(9000)).unwrap_or_else(|| panic!("not found"));
        // Line 1 opens the root mapping; line n opens level n.
        assert_eq!(at.line, MAX_DEPTH + 1);
    }

    #[test]
    fn deep_flow_nesting_is_found_too() {
        let deep = format!(
            "a: {}1{}\n",
            "[".repeat(MAX_DEPTH + 20),
            "]".repeat(MAX_DEPTH + 20)
        );
        assert!(too_deep(&deep).is_some());
        let shallow = format!("a: {}1{}\n", "[".repeat(50), "]".repeat(50));
        assert_eq!(too_deep(&shallow), None);
        // Deeper still, yaml-rust2's scanner refuses the text before its events reach the walk
        // ("recursion limit exceeded"): that is the limit passed too.
        let deepest = format!("a: {}1{}\n", "[".repeat(200_000), "]".repeat(200_000));
        assert!(too_deep(&deepest).is_some());
    }

    #[test]
    fn brackets_in_text_cost_a_walk_but_not_an_error() {
        let text = format!("name: \"{}\"\n", "[".repeat(500));
        assert!(bound(&text) > MAX_DEPTH);
        assert_eq!(too_deep(&text), None);
    }
}

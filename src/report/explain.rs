//! What `ferry explain` prints: one code's explanation, or the list of every code.

use std::io::Write;

use crate::plan::codes::Code;
use crate::report::diagnostics::{severity_name, stdout_wants_color};

/// The widest the list is printed; summaries wrap under their column.
const WIDTH: usize = 100;

/// A code's explanation as printed: the Markdown-ish text, with headings in bold when `color`.
pub fn render_explanation(code: Code, color: bool) -> String {
    let mut output = String::new();
    for line in code.explanation().trim_end().lines() {
        if color && line.starts_with('#') {
            output.push_str(&format!("\u{1b}[1m{line}\u{1b}[0m\n"));
        } else {
            output.push_str(line);
            output.push('\n');
        }
    }
    output
}

/// Every code with its severity and summary, one per line (wrapped to 100 columns).
pub fn render_code_list() -> String {
    let code_width = Code::ALL
        .iter()
        .map(|code| code.as_str().len())
        .max()
        .unwrap_or(0);
    let severity_width = "SEVERITY".len();
    let indent = code_width + 2 + severity_width + 2;
    let mut output = format!(
        "{:code_width$}  {:severity_width$}  SUMMARY\n",
        "CODE", "SEVERITY"
    );
    for code in Code::ALL {
        let lines = wrap(code.summary(), WIDTH.saturating_sub(indent).max(20));
        for (position, line) in lines.iter().enumerate() {
            if position == 0 {
                output.push_str(&format!(
                    "{:code_width$}  {:severity_width$}  {line}\n",
                    code.as_str(),
                    severity_name(code.default_severity()),
                ));
            } else {
                output.push_str(&format!("{:indent$}{line}\n", ""));
            }
        }
    }
    output.push_str(
        "\nRun `ferry explain CODE` for what a code means, with a wrong and a fixed example.\n",
    );
    output
}

/// Greedy word wrap; a word longer than the width gets a line of its own.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Prints a code's explanation to stdout.
pub fn print_explanation(code: Code) -> std::io::Result<()> {
    write_stdout(&render_explanation(code, stdout_wants_color()))
}

/// Prints the list of every code to stdout.
pub fn print_code_list() -> std::io::Result<()> {
    write_stdout(&render_code_list())
}

fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests;

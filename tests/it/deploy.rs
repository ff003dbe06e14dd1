//! The `deploy/` examples of a fleet: the GitHub Actions workflow and the Kubernetes Job are
//! well-formed YAML whose every ferry command line parses with the real CLI, and the Dockerfile
//! builds with `--locked` in one stage and ships the binary as the entrypoint of a slim one.

use clap::Parser;
use saphyr_parser::Event;

use crate::support::command::repository_root;

fn deploy_file(name: &str) -> String {
    std::fs::read_to_string(repository_root().join("deploy").join(name))
        .unwrap_or_else(|error| panic!("deploy/{name}: {error}"))
}

/// Every scalar of a YAML text, and every sequence of scalars (a container's `command`/`args`),
/// read with the parser the plan loader uses; a malformed text fails the test.
fn scalars_and_sequences(name: &str, text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let (mut scalars, mut sequences) = (Vec::new(), Vec::new());
    let mut open: Vec<Option<Vec<String>>> = Vec::new();
    for event in saphyr_parser::Parser::new_from_str(text) {
        let (event, _) = event.unwrap_or_else(|error| panic!("deploy/{name}: {error}"));
        match event {
            Event::Scalar(value, ..) => {
                scalars.push(value.to_string());
                if let Some(Some(items)) = open.last_mut() {
                    items.push(value.to_string());
                }
            }
            Event::SequenceStart(..) => open.push(Some(Vec::new())),
            Event::MappingStart(..) => {
                // A mapping inside a sequence: not a list of words.
                if let Some(last) = open.last_mut() {
                    *last = None;
                }
                open.push(None);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(Some(items)) = open.pop() {
                    sequences.push(items);
                }
            }
            _ => {}
        }
    }
    (scalars, sequences)
}

/// Splits a shell line into words: double-quoted words may hold spaces (and `${{ … }}`).
fn words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quoted, mut started) = (Vec::new(), String::new(), false, false);
    for character in line.chars() {
        match character {
            '"' => {
                quoted = !quoted;
                started = true;
            }
            ' ' | '\t' if !quoted => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            _ => {
                word.push(character);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    words
}

/// Parses a ferry command line with the real CLI, saying which file it came from.
fn assert_parses(name: &str, argv: &[String]) {
    if let Err(error) = ferry::cli::Cli::try_parse_from(argv) {
        panic!(
            "deploy/{name}: `{}` does not parse: {error}",
            argv.join(" ")
        );
    }
}

/// The ferry command lines in the shell scripts of a workflow's `run:` steps (the scalars that
/// follow a `run` key).
fn shell_commands(scalars: &[String]) -> Vec<Vec<String>> {
    scalars
        .windows(2)
        .filter(|pair| pair[0] == "run")
        .flat_map(|pair| pair[1].lines())
        .map(|line| {
            // The command ends where the shell redirects or chains it.
            words(line)
                .into_iter()
                .take_while(|word| !matches!(word.as_str(), ">" | ">>" | "|" | "&&" | "||" | ";"))
                .collect::<Vec<_>>()
        })
        .filter(|words| words.first().is_some_and(|word| word == "ferry"))
        .collect()
}

#[test]
fn the_workflow_starts_a_matrix_of_runners_whose_command_lines_parse() {
    let text = deploy_file("github-actions.yml");
    let (scalars, _) = scalars_and_sequences("github-actions.yml", &text);
    let commands = shell_commands(&scalars);
    assert!(
        commands
            .iter()
            .any(|argv| argv.get(1).is_some_and(|word| word == "run")),
        "no `ferry run` in the workflow: {commands:?}"
    );
    for argv in &commands {
        assert_parses("github-actions.yml", argv);
    }
    assert!(text.contains("matrix:") && text.contains("secrets.FERRY_STATE_URL"));
    assert!(
        text.contains("FERRY_STATE:"),
        "the state URL comes from the environment"
    );
}

#[test]
fn the_kubernetes_job_runs_the_image_in_parallel_with_arguments_that_parse() {
    let text = deploy_file("kubernetes-job.yaml");
    let (scalars, sequences) = scalars_and_sequences("kubernetes-job.yaml", &text);
    let runs: Vec<&Vec<String>> = sequences
        .iter()
        .filter(|items| items.first().is_some_and(|word| word == "run"))
        .collect();
    assert_eq!(
        runs.len(),
        1,
        "one container runs `ferry run`: {sequences:?}"
    );
    let mut argv = vec!["ferry".to_string()];
    argv.extend(runs[0].iter().cloned());
    assert_parses("kubernetes-job.yaml", &argv);
    let after = |key: &str| {
        let index = scalars.iter().position(|scalar| scalar == key);
        index.and_then(|index| scalars.get(index + 1)).cloned()
    };
    assert_eq!(after("kind").as_deref(), Some("Job"));
    let parallelism: u32 = after("parallelism")
        .and_then(|value| value.parse().ok())
        .expect("a numeric parallelism");
    assert!(parallelism > 1, "a fleet has several runners");
    assert_eq!(after("name").as_deref(), Some("ferry-wave"));
    assert!(
        scalars.iter().any(|scalar| scalar == "FERRY_STATE")
            && scalars.iter().any(|scalar| scalar == "secretKeyRef"),
        "the state URL comes from a Secret"
    );
}

#[test]
fn the_dockerfile_builds_locked_and_ships_ferry_as_the_entrypoint_of_a_slim_stage() {
    let text = deploy_file("Dockerfile");
    let instructions: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    let stages: Vec<&&str> = instructions
        .iter()
        .filter(|line| line.starts_with("FROM "))
        .collect();
    assert_eq!(stages.len(), 2, "a build stage and a final one: {stages:?}");
    assert!(stages[0].contains(" AS build"), "{}", stages[0]);
    assert!(
        stages[1].contains("slim"),
        "a small final image: {}",
        stages[1]
    );
    assert!(
        instructions
            .iter()
            .any(|line| line.starts_with("RUN ") && line.contains("cargo build --release --locked")),
        "the build uses the lock file"
    );
    assert!(instructions.contains(&"COPY --from=build /usr/local/bin/ferry /usr/local/bin/ferry"));
    assert!(instructions.contains(&r#"ENTRYPOINT ["/usr/local/bin/ferry"]"#));
    assert!(
        instructions.iter().any(|line| line.starts_with("USER ")),
        "not root"
    );
    // The container's default arguments parse too.
    assert!(instructions.contains(&r#"CMD ["--help"]"#));
    // The build context leaves out build output and local state.
    let ignored = std::fs::read_to_string(repository_root().join(".dockerignore"))
        .expect("a .dockerignore beside the Dockerfile's context");
    for entry in ["target", ".ferry"] {
        assert!(
            ignored.lines().any(|line| line == entry),
            "{entry} is not ignored"
        );
    }
}

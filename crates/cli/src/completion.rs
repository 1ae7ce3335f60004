//! Shell completion: `completion bash|zsh|fish` scripts, and the hidden
//! `__complete` command behind the `kubectl_complete-acme_token` shim.
//!
//! kubectl (1.26 and later) completes `kubectl acme-token …` by running
//! `kubectl_complete-acme_token` with the words typed after the plugin
//! name, the last one being the word to complete. As Cobra programs do,
//! the output is one candidate per line (`value<TAB>description`), then a
//! line `:N` with Cobra's directive bits: 4 turns off file completion, 0
//! lets the shell complete file names.

use crate::args::Cli;
use clap::{Arg, Command, CommandFactory};
use std::io::Write;
use std::process::ExitCode;

/// Cobra directive: complete nothing else, in particular no file names.
const NO_FILE_COMPLETION: u8 = 4;
/// Cobra directive: the shell's default completion, which includes file names.
const DEFAULT: u8 = 0;

/// Prints the completion script for `shell` on stdout.
pub fn print_script(shell: clap_complete::Shell) -> ExitCode {
    let mut command = Cli::command();
    let mut stdout = std::io::stdout().lock();
    clap_complete::generate(shell, &mut command, "kubectl-acme_token", &mut stdout);
    match stdout.flush() {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(2),
    }
}

/// Prints the candidates for the last of `words` in Cobra's format.
pub fn print_candidates(words: &[String]) -> ExitCode {
    let (candidates, directive) = candidates(words);
    let mut text = String::new();
    for (value, description) in candidates {
        match description {
            Some(description) if !description.is_empty() => {
                text.push_str(&format!("{value}\t{description}\n"));
            }
            _ => text.push_str(&format!("{value}\n")),
        }
    }
    text.push_str(&format!(":{directive}\n"));
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(2),
    }
}

type Candidate = (String, Option<String>);

/// Computes the candidates and the directive for the last word.
pub fn candidates(words: &[String]) -> (Vec<Candidate>, u8) {
    let root = Cli::command();
    let (partial, typed) = match words.split_last() {
        Some((last, rest)) => (last.as_str(), rest),
        None => ("", words),
    };

    // Walk the typed words to find the subcommand and whether the word
    // before the partial one is a flag that takes a value.
    let mut command = &root;
    let mut pending: Option<&Arg> = None;
    for word in typed {
        if pending.take().is_some() {
            continue;
        }
        if let Some(arg) = find_flag(command, &root, word) {
            if takes_value(arg) && !word.contains('=') {
                pending = Some(arg);
            }
            continue;
        }
        if let Some(sub) = command
            .get_subcommands()
            .find(|sub| sub.get_name() == word && !sub.is_hide_set())
        {
            command = sub;
        }
    }

    if let Some(arg) = pending {
        return value_candidates(arg, partial);
    }
    if partial.starts_with('-') {
        let mut flags: Vec<Candidate> = Vec::new();
        for arg in command.get_arguments().chain(root.get_arguments()) {
            if arg.is_hide_set() {
                continue;
            }
            if let Some(long) = arg.get_long() {
                let flag = format!("--{long}");
                if flag.starts_with(partial) && !flags.iter().any(|(known, _)| *known == flag) {
                    flags.push((flag, arg.get_help().map(|help| first_line(&help.to_string()))));
                }
            }
        }
        return (flags, NO_FILE_COMPLETION);
    }
    let subcommands: Vec<Candidate> = command
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set() && sub.get_name() != "help")
        .filter(|sub| sub.get_name().starts_with(partial))
        .map(|sub| {
            (
                sub.get_name().to_string(),
                sub.get_about().map(|about| first_line(&about.to_string())),
            )
        })
        .collect();
    if !subcommands.is_empty() {
        return (subcommands, NO_FILE_COMPLETION);
    }
    // The positional arguments: the shell of `completion`, the provider of `check`.
    let positional = command
        .get_positionals()
        .find(|arg| !arg.get_possible_values().is_empty());
    if let Some(arg) = positional {
        return value_candidates(arg, partial);
    }
    if command.get_name() == "check" {
        let providers = crate::registry::provider_ids()
            .into_iter()
            .filter(|id| id.starts_with(partial))
            .map(|id| (id.to_string(), Some("check a bare credential".to_string())))
            .collect();
        return (providers, NO_FILE_COMPLETION);
    }
    (Vec::new(), NO_FILE_COMPLETION)
}

fn find_flag<'a>(command: &'a Command, root: &'a Command, word: &str) -> Option<&'a Arg> {
    let name = word.split_once('=').map_or(word, |(name, _)| name);
    let matches = |arg: &&Arg| {
        if let Some(long) = name.strip_prefix("--") {
            arg.get_long() == Some(long)
        } else if let Some(short) = name.strip_prefix('-') {
            short.len() == 1 && arg.get_short() == short.chars().next()
        } else {
            false
        }
    };
    command
        .get_arguments()
        .find(matches)
        .or_else(|| root.get_arguments().find(matches))
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_action().takes_values()
}

fn value_candidates(arg: &Arg, partial: &str) -> (Vec<Candidate>, u8) {
    let values: Vec<Candidate> = arg
        .get_possible_values()
        .iter()
        .filter(|value| !value.is_hide_set() && value.get_name().starts_with(partial))
        .map(|value| {
            (
                value.get_name().to_string(),
                value.get_help().map(|help| first_line(&help.to_string())),
            )
        })
        .collect();
    if !values.is_empty() {
        return (values, NO_FILE_COMPLETION);
    }
    let is_path = matches!(arg.get_long(), Some("filename" | "kubeconfig" | "ca-file" | "keep-files"));
    if is_path {
        (Vec::new(), DEFAULT)
    } else {
        (Vec::new(), NO_FILE_COMPLETION)
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(words: &[&str]) -> (Vec<String>, u8) {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        let (candidates, directive) = candidates(&words);
        (candidates.into_iter().map(|(value, _)| value).collect(), directive)
    }

    #[test]
    fn subcommands_completed() {
        let (values, directive) = complete(&[""]);
        assert!(values.contains(&"check".to_string()), "{values:?}");
        assert!(values.contains(&"completion".to_string()), "{values:?}");
        assert!(!values.contains(&"__complete".to_string()), "{values:?}");
        assert_eq!(directive, NO_FILE_COMPLETION);
    }

    #[test]
    fn check_flags_completed() {
        let (mut values, _) = complete(&["check", "--sec"]);
        values.sort();
        assert_eq!(values, vec!["--secret".to_string(), "--secrets-from-cluster".to_string()]);
    }

    #[test]
    fn output_values_completed() {
        let (values, _) = complete(&["check", "-o", "j"]);
        assert_eq!(values, vec!["json".to_string()]);
    }

    #[test]
    fn filename_completes_files() {
        let (values, directive) = complete(&["check", "-f", ""]);
        assert!(values.is_empty(), "{values:?}");
        assert_eq!(directive, DEFAULT);
    }

    #[test]
    fn completion_shells_completed() {
        let (values, _) = complete(&["completion", ""]);
        assert!(values.contains(&"bash".to_string()), "{values:?}");
        assert!(values.contains(&"fish".to_string()), "{values:?}");
    }
}

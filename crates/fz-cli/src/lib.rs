//! The fz command line. One entry point serves every program: invoked as
//! `fz` it takes a subcommand; invoked as `fzi`, `fzc`, `fzo`, `fzr`, `fzd`
//! or `fzl` (a link, copy or console script with that name) it runs that
//! command directly. The `fz` binary and the Python package's console
//! scripts both call [`main_with`].
//!
//! This crate parses arguments, calls the library and prints; stdout gets
//! the data only, everything else goes to stderr.

mod args;
mod commands;
mod design;
mod help;
mod interrupt;
mod plugins;
mod resolve;
mod summary;

use args::{CompileArgs, DesignArgs, FzArgs, FzCommand, InputArgs, ListArgs, OutputArgs, RunArgs};
use clap::{CommandFactory, Parser};

/// What went wrong, and so which exit code to use.
pub enum Failure {
    /// Bad command line: exit 2.
    Usage(String),
    /// The library refused the input: exit 1.
    Error(String),
}

impl From<fz_core::Error> for Failure {
    fn from(e: fz_core::Error) -> Self {
        Failure::Error(e.to_string())
    }
}

/// The program a name stands for (`fzi` → `input`, …).
fn command_of(program: &str) -> Option<Short> {
    Some(match program {
        "fzi" => Short::Input,
        "fzc" => Short::Compile,
        "fzo" => Short::Output,
        "fzr" => Short::Run,
        "fzd" => Short::Design,
        "fzl" => Short::List,
        _ => return None,
    })
}

/// The commands that have a program name of their own.
#[derive(Debug, Clone, Copy)]
enum Short {
    Input,
    Compile,
    Output,
    Run,
    Design,
    List,
}

/// The program name of `argv[0]` (`/usr/bin/fzi` → `fzi`).
fn program_name(argv0: Option<&String>) -> String {
    argv0
        .and_then(|a| {
            std::path::Path::new(a)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "fz".into())
}

/// The command line being run, as given to [`main_with`] (for messages
/// that repeat it, like the resume hint after an interrupt).
static INVOCATION: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// The command line of this invocation (empty before [`main_with`]).
pub(crate) fn invocation() -> Vec<String> {
    INVOCATION.get().cloned().unwrap_or_default()
}

/// Runs the command line `argv` (program name first) and returns the exit
/// status: 0 success, 1 bad input or (fzr) a case not done, 2 bad command
/// line, 130 interrupted.
pub fn main_with(argv: Vec<String>) -> u8 {
    let _ = INVOCATION.set(argv.clone());
    let program = program_name(argv.first());
    let args: Vec<String> = argv.into_iter().skip(1).collect();
    if args.iter().any(|a| a == "--version" || a == "-V") {
        let shown = if command_of(&program).is_some() {
            program.as_str()
        } else {
            "fz"
        };
        println!(
            "{shown} {} (funz-fz {} compatible)",
            fz_core::VERSION,
            fz_core::FUNZ_FZ_VERSION
        );
        return 0;
    }
    let shown = if command_of(&program).is_some() {
        program.clone()
    } else {
        "fz".to_string()
    };
    match run(&program, args) {
        Ok(code) => code,
        Err(Failure::Usage(msg)) => {
            eprintln!("{shown}: error: {msg}");
            2
        }
        Err(Failure::Error(msg)) => {
            eprintln!("{shown}: error: {msg}");
            1
        }
    }
}

/// Parses `args` as `T` under the program name `name`; help goes to stdout
/// (exit 0), errors become one usage line.
fn parse<T: Parser>(name: &str, args: Vec<String>) -> Result<Result<T, u8>, Failure> {
    let cmd = T::command()
        .name(name.to_string())
        .bin_name(name.to_string());
    let argv = std::iter::once(name.to_string()).chain(args);
    match cmd.try_get_matches_from(argv) {
        Ok(m) => T::from_arg_matches(&m)
            .map(Ok)
            .map_err(|e| Failure::Usage(first_line(&e.to_string()))),
        Err(e) => match e.kind() {
            clap::error::ErrorKind::DisplayHelp
            | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                let _ = e.print();
                Ok(Err(0))
            }
            _ => Err(Failure::Usage(first_line(&e.to_string()))),
        },
    }
}

/// The first line of a clap error, without its `error: ` prefix.
fn first_line(msg: &str) -> String {
    let line = msg.lines().next().unwrap_or("invalid arguments");
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}

fn run(program: &str, args: Vec<String>) -> Result<u8, Failure> {
    match command_of(program) {
        Some(Short::Input) => match parse::<InputArgs>(program, args)? {
            Ok(a) => commands::input(&a),
            Err(code) => Ok(code),
        },
        Some(Short::Compile) => match parse::<CompileArgs>(program, args)? {
            Ok(a) => commands::compile(&a),
            Err(code) => Ok(code),
        },
        Some(Short::Output) => match parse::<OutputArgs>(program, args)? {
            Ok(a) => commands::output(&a),
            Err(code) => Ok(code),
        },
        Some(Short::Run) => match parse::<RunArgs>(program, args)? {
            Ok(a) => commands::run(&a),
            Err(code) => Ok(code),
        },
        Some(Short::Design) => match parse::<DesignArgs>(program, args)? {
            Ok(a) => design::design(&a),
            Err(code) => Ok(code),
        },
        Some(Short::List) => match parse::<ListArgs>(program, args)? {
            Ok(a) => commands::list(&a),
            Err(code) => Ok(code),
        },
        None => run_fz(args),
    }
}

fn run_fz(args: Vec<String>) -> Result<u8, Failure> {
    let parsed = match parse::<FzArgs>("fz", args)? {
        Ok(a) => a,
        Err(code) => return Ok(code),
    };
    match parsed.command {
        None => {
            let _ = FzArgs::command().print_help();
            println!();
            Ok(1)
        }
        Some(FzCommand::Input(a)) => commands::input(&a),
        Some(FzCommand::Compile(a)) => commands::compile(&a),
        Some(FzCommand::Output(a)) => commands::output(&a),
        Some(FzCommand::Run(a)) => commands::run(&a),
        Some(FzCommand::Design(a)) => design::design(&a),
        Some(FzCommand::List(a)) => commands::list(&a),
        Some(FzCommand::Cache(c)) => commands::cache(&c),
        Some(FzCommand::Report(a)) => commands::report(&a),
        Some(FzCommand::Install(c)) => plugins::install(&c),
        Some(FzCommand::Uninstall(c)) => plugins::uninstall(&c),
        Some(FzCommand::FunzServers(a)) => commands::funz_servers(&a),
        Some(FzCommand::Completions(a)) => completions(&a.shell),
        Some(FzCommand::Man) => man_page(),
        Some(FzCommand::Help(a)) => help::help(&a.topic),
        Some(FzCommand::Worker(a)) => worker(&a),
    }
}

/// `fz worker SPOOL`: the loop of a pack task (packed `slurm://` mode);
/// prints how many cases it ran on stderr.
fn worker(a: &args::WorkerArgs) -> Result<u8, Failure> {
    use fz_core::calculators::slurm::pack::worker;
    let task = worker::task_name();
    let opts = worker::WorkerOptions {
        max_cases: a.max_cases.max(1),
        walltime: a.walltime.map(std::time::Duration::from_secs),
        ..worker::WorkerOptions::default()
    };
    let ran = worker::run(&a.spool, &task, &opts).map_err(Failure::Error)?;
    eprintln!("fz worker {task}: {ran} cases");
    Ok(0)
}

/// `fz completions SHELL`: the completion script of `fz` on stdout.
fn completions(shell: &str) -> Result<u8, Failure> {
    use clap_complete::Shell;
    let shell = match shell {
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        other => return Err(Failure::Usage(format!("unknown shell '{other}'"))),
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut FzArgs::command(), "fz", &mut script);
    commands::print_out(String::from_utf8_lossy(&script).trim_end())?;
    Ok(0)
}

/// `fz man`: the man page of `fz` (roff) on stdout.
fn man_page() -> Result<u8, Failure> {
    let mut page = Vec::new();
    clap_mangen::Man::new(FzArgs::command())
        .render(&mut page)
        .map_err(|e| Failure::Error(format!("cannot render the man page: {e}")))?;
    commands::print_out(String::from_utf8_lossy(&page).trim_end())?;
    Ok(0)
}

//! Command-line arguments of every fz program, as upstream spells them
//! (aliases included). Parsing only: no resolution, no I/O.

use clap::{Args, Parser, Subcommand};

/// Options shared by fzi, fzc, fzo and fzr: the model and its inline keys.
#[derive(Debug, Args, Clone, Default)]
pub struct ModelArgs {
    /// Model: inline JSON, a .json file, or an alias in .fz/models/.
    #[arg(long, short = 'm')]
    pub model: Option<String>,
    /// Variable prefix (sets the model's `varprefix`).
    #[arg(long)]
    pub varprefix: Option<String>,
    /// Formula prefix (sets `formulaprefix`).
    #[arg(long)]
    pub formulaprefix: Option<String>,
    /// Delimiters of variables and formulas, two characters or "" (sets `delim`).
    #[arg(long)]
    pub delim: Option<String>,
    /// Comment marker (sets `commentline`).
    #[arg(long)]
    pub commentline: Option<String>,
    /// Formula interpreter: python or R (sets `interpreter`).
    #[arg(long)]
    pub interpreter: Option<String>,
    /// Output extractor NAME=COMMAND (repeatable; adds to the model's `output`).
    #[arg(long = "output-cmd", value_name = "NAME=COMMAND")]
    pub output_cmd: Vec<String>,
}

/// Verbosity flags (`-v` is `--input_variables`, as upstream, so verbose
/// has no short form).
#[derive(Debug, Args, Clone, Default)]
pub struct LogArgs {
    /// More messages on stderr: once INFO, twice DEBUG (sets FZ_LOG_LEVEL).
    #[arg(long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Errors only, no progress (FZ_LOG_LEVEL=QUIET).
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// Treat warnings about the input (a misspelled model key, …) as errors (sets FZ_STRICT=1).
    #[arg(long, global = true)]
    pub strict: bool,
}

impl LogArgs {
    /// Sets `FZ_LOG_LEVEL` for this process when a flag asks for it (the
    /// library reads it at each call).
    pub fn apply(&self) {
        if self.strict {
            // Set before this command starts any thread.
            std::env::set_var("FZ_STRICT", "1");
        }
        let level = if self.quiet {
            "QUIET"
        } else {
            match self.verbose {
                0 => return,
                1 => "INFO",
                _ => "DEBUG",
            }
        };
        // Set before this command starts any thread.
        std::env::set_var("FZ_LOG_LEVEL", level);
    }
}

/// The input path, positional or `--input_path`.
#[derive(Debug, Args, Clone, Default)]
pub struct InputPathArgs {
    /// Input file or directory.
    #[arg(value_name = "INPUT_PATH")]
    pub input_path_pos: Option<String>,
    /// Input file or directory (alternative to the positional argument).
    #[arg(long = "input_path", short = 'i', value_name = "INPUT_PATH")]
    pub input_path: Option<String>,
}

/// `fzi` / `fz input`: list the variables and formulas of an input.
#[derive(Debug, Parser, Clone)]
#[command(
    about = "Scan an input file or directory for variables, formulas and static objects",
    after_help = "Example:\n  fzi input.txt -m '{\"varprefix\": \"$\"}' -f json   # variables with their defaults, formulas evaluated"
)]
pub struct InputArgs {
    #[command(flatten)]
    pub log: LogArgs,
    #[command(flatten)]
    pub input: InputPathArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Output format.
    #[arg(long, short = 'f', default_value = "markdown", value_parser = ["json", "csv", "html", "markdown", "table"])]
    pub format: String,
    /// Files identical in every case, never templated (repeatable, or a JSON list).
    #[arg(long = "input_static", value_name = "PATH")]
    pub input_static: Vec<String>,
}

/// How cases are given and named: shared by fzc and fzr.
#[derive(Debug, Args, Clone, Default)]
pub struct CaseArgs {
    /// Variable values: JSON (object = grid, list of objects = one case per
    /// row), a .json or .csv file, or name=value pairs: a=1,b=[4,5,6]
    /// (lists also [4;5;6]), c=0:10 (integers 0 to 10, both ends
    /// included), d=0:1:0.25 (start:stop:step).
    #[arg(
        long = "input_variables",
        visible_alias = "variables",
        short = 'v',
        value_name = "VARIABLES"
    )]
    pub input_variables: Option<String>,
    /// Case directory naming.
    #[arg(long = "case_naming", value_parser = ["path", "hash", "index"])]
    pub case_naming: Option<String>,
    /// Files identical in every case, never templated (repeatable, or a JSON list).
    #[arg(long = "input_static", value_name = "PATH")]
    pub input_static: Vec<String>,
}

/// `fzc` / `fz compile`: compile an input for every case.
#[derive(Debug, Parser, Clone)]
#[command(
    about = "Compile an input into one directory per case",
    after_help = "Examples:\n  fzc input.txt -v 'x=[1,2,3]' -o compiled     # compiled/x=1, x=2, x=3\n  fzc input.txt -v x=0:1:0.25 -v y=a -o compiled --strict\n\n\
        Exit status: 0 compiled, 1 bad input or a formula failed, 2 bad command line."
)]
pub struct CompileArgs {
    #[command(flatten)]
    pub log: LogArgs,
    #[command(flatten)]
    pub input: InputPathArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub cases: CaseArgs,
    /// Output directory (an existing one is renamed with a timestamp).
    #[arg(
        long = "output_dir",
        visible_alias = "output",
        short = 'o',
        default_value = "output"
    )]
    pub output_dir: String,
}

/// `fzo` / `fz output`: read the outputs of result directories.
#[derive(Debug, Parser, Clone)]
#[command(
    about = "Parse the outputs of case directories into a table",
    after_help = "Examples:\n  fzo results -m model.json -f table\n  fzo 'results/x=*' --output-cmd 'r=cat r.txt' -f csv"
)]
pub struct OutputArgs {
    #[command(flatten)]
    pub log: LogArgs,
    /// Directory, glob (quote it) or regular expression naming the case
    /// directories; a results directory stands for its cases.
    #[arg(value_name = "OUTPUT_PATH")]
    pub output_path_pos: Option<String>,
    /// Same as the positional argument.
    #[arg(long = "output_path", short = 'o', value_name = "OUTPUT_PATH")]
    pub output_path: Option<String>,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Output format.
    #[arg(long, short = 'f', default_value = "markdown", value_parser = ["json", "csv", "html", "markdown", "table"])]
    pub format: String,
}

/// `fzr` / `fz run`: run a parametric study.
#[derive(Debug, Parser, Clone)]
#[command(
    about = "Compile an input for every case, run it on the calculators and collect the outputs",
    after_help = "Examples:\n  fzr input.txt -m model.json -v 'x=[1,2,3]' -c 'sh://bash calc.sh' -r results\n  \
        fzr input.txt -m model.json -v x=0:10 -c cache://results -c 'sh://bash calc.sh' -r again\n\n\
        Exit status: 0 every case done, 1 a case not done or bad input, 2 bad command line, 130 interrupted."
)]
pub struct RunArgs {
    #[command(flatten)]
    pub log: LogArgs,
    #[command(flatten)]
    pub input: InputPathArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub cases: CaseArgs,
    /// Results directory (an existing one is renamed with a timestamp).
    #[arg(
        long = "results_dir",
        visible_alias = "results",
        short = 'r',
        default_value = "results"
    )]
    pub results_dir: String,
    /// Calculator: URI (sh://…), alias name, .json file or inline JSON (repeatable; each is one slot).
    #[arg(
        long = "calculators",
        visible_alias = "calculator",
        short = 'c',
        value_name = "CALCULATOR"
    )]
    pub calculators: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f', default_value = "markdown", value_parser = ["json", "csv", "html", "markdown", "table"])]
    pub format: String,
    /// Reuse an existing results directory in place: keep its finished
    /// cases, run the others (instead of renaming it aside).
    #[arg(long)]
    pub resume: bool,
    /// Time limit of one attempt, in seconds (a calculator's ?timeout= and the model's timeout win).
    #[arg(long)]
    pub timeout: Option<u64>,
    /// Show no progress bar or progress lines (as FZ_PROGRESS=0).
    #[arg(long = "no-progress")]
    pub no_progress: bool,
    /// Keep an HTML report of the run (default RESULTS_DIR/report.html):
    /// rewritten every few seconds while cases finish (the page reloads
    /// itself), final when the run ends.
    #[arg(long = "report", value_name = "FILE", num_args = 0..=1, default_missing_value = "")]
    pub report: Option<String>,
    /// Append one JSON line per run event (start, case_start, case_complete, progress) to this file as the run goes.
    #[arg(long, value_name = "FILE")]
    pub events: Option<String>,
}

/// `fzd` / `fz design`: iterative design of experiments.
#[derive(Debug, Parser, Clone)]
#[command(
    about = "Iterative design of experiments: an algorithm proposes points, fz evaluates them, until the algorithm stops",
    after_help = "Example (minimise (x-0.3)^2+1 with Brent's method, a built-in):\n  \
        fzd -i input.txt -m model.json -v '{\"x\": \"[0;1]\", \"z\": \"5\"}' -e 'f' -a brent \\\n      \
        -c 'sh://bash calc.sh' -o '{\"tol\": 1e-6}' -r analysis\n\n\
        Variables: \"[min;max]\" is a range the algorithm explores, a number is fixed.\n\
        Built-in algorithms: randomsampling, montecarlo_uniform, brent, bfgs, nsga2, lhs, sobol;\n\
        or a plugin name (.fz/algorithms/NAME.py|.R) or a file path.\n\
        Exit status: 0 done, 1 bad input or no valid evaluation, 2 bad command line, 130 interrupted."
)]
pub struct DesignArgs {
    #[command(flatten)]
    pub log: LogArgs,
    #[command(flatten)]
    pub input: InputPathArgs,
    /// Input directory (same as --input_path).
    #[arg(long = "input_dir", value_name = "INPUT_PATH", hide = true)]
    pub input_dir: Option<String>,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Variables: JSON text or a JSON file, {"x": "[0;1]", "z": "5"}.
    #[arg(
        long = "input_variables",
        visible_alias = "input_vars",
        alias = "variables",
        short = 'v',
        value_name = "JSON"
    )]
    pub input_variables: Option<String>,
    /// Objective: a Python expression over the outputs and variables
    /// (repeat for several objectives).
    #[arg(long = "output_expression", short = 'e', value_name = "EXPR")]
    pub output_expression: Vec<String>,
    /// Algorithm: built-in name, plugin name or file path.
    #[arg(long, short = 'a')]
    pub algorithm: Option<String>,
    /// Analysis directory (an existing one is renamed with a timestamp).
    #[arg(
        long = "results_dir",
        visible_alias = "results",
        short = 'r',
        default_value = "results_fzd"
    )]
    pub results_dir: String,
    /// Calculator: URI (sh://…), alias name, .json file or inline JSON (repeatable; each is one slot).
    #[arg(
        long = "calculators",
        visible_alias = "calculator",
        short = 'c',
        value_name = "CALCULATOR"
    )]
    pub calculators: Vec<String>,
    /// Algorithm options: JSON text or a JSON file.
    #[arg(long, short = 'o', value_name = "JSON")]
    pub options: Option<String>,
    /// Show no progress bar or progress lines.
    #[arg(long = "no-progress")]
    pub no_progress: bool,
    /// Keep an HTML page of the design (default RESULTS_DIR/report.html):
    /// the objectives' plots and each iteration's case report, rewritten
    /// as iterations finish (the page reloads itself until the end).
    #[arg(long = "report", value_name = "FILE", num_args = 0..=1, default_missing_value = "")]
    pub report: Option<String>,
}

/// `fzl` / `fz list`: list (and check) installed models, calculators and algorithms.
#[derive(Debug, Parser, Clone)]
#[command(
    about = "List the models, calculators and algorithms of ./.fz and ~/.fz (project first) and the built-in algorithms, optionally checking them",
    after_help = "Examples:\n  fz list                      # models, calculators and algorithms\n  fz list algorithms --global  # what is installed in ~/.fz/algorithms\n  fz list models -f json"
)]
pub struct ListArgs {
    #[command(flatten)]
    pub log: LogArgs,
    /// Model alias names to list: a glob (quote it), comma-separated globs, or a name.
    #[arg(long, short = 'm', default_value = "*", value_name = "PATTERN")]
    pub models: String,
    /// Calculator alias names to list (glob, comma-separated globs or a name), or a calculator URI to check.
    #[arg(long, short = 'c', default_value = "*", value_name = "PATTERN")]
    pub calculators: String,
    /// Algorithm names to list (plugin files of .fz/algorithms, built-ins): a glob, comma-separated globs, or a name.
    #[arg(long, short = 'a', default_value = "*", value_name = "PATTERN")]
    pub algorithms: String,
    /// Check every entry (valid JSON, keys, scripts and programs, ssh hosts reachable, plugin files load with a class and their #require packages); exit 1 if one fails.
    #[arg(long)]
    pub check: bool,
    /// Output format.
    #[arg(long, short = 'f', default_value = "markdown", value_parser = ["json", "markdown", "table"])]
    pub format: String,
    /// List only the installed models, algorithms or calculators.
    #[arg(value_name = "WHAT", value_parser = ["models", "algorithms", "calculators"])]
    pub what: Option<String>,
    /// With WHAT: list ~/.fz only.
    #[arg(long)]
    pub global: bool,
}

/// `fz`: all commands as subcommands.
#[derive(Debug, Parser)]
#[command(
    name = "fz",
    about = "Parametric studies for simulation codes",
    disable_version_flag = true,
    disable_help_subcommand = true,
    after_help = "Examples:\n  fz run input.txt -m model.json -v 'x=[1,2]' -c 'sh://bash calc.sh'\n  fz help model      # the model keys, one line each"
)]
pub struct FzArgs {
    /// Print the version.
    #[arg(long = "version", short = 'V', action = clap::ArgAction::SetTrue)]
    pub version: bool,
    #[command(subcommand)]
    pub command: Option<FzCommand>,
}

/// Subcommands of `fz`.
#[derive(Debug, Subcommand)]
pub enum FzCommand {
    /// Scan an input (same as fzi).
    Input(InputArgs),
    /// Compile an input (same as fzc).
    Compile(CompileArgs),
    /// Parse output directories (same as fzo).
    Output(OutputArgs),
    /// Run a parametric study (same as fzr).
    Run(RunArgs),
    /// Iterative design of experiments: an algorithm proposes points (same as fzd).
    Design(DesignArgs),
    /// List models and calculators (same as fzl).
    List(ListArgs),
    /// Inspect a cache directory (results of earlier runs).
    #[command(
        subcommand,
        after_help = "Examples:\n  fz cache list results\n  fz cache verify results"
    )]
    Cache(CacheCommand),
    /// Summarise a run from its journal (results_dir/fz_journal.tsv).
    #[command(
        after_help = "Examples:\n  fz report results\n  fz report results --html -o study.html"
    )]
    Report(ReportArgs),
    /// Install a model or algorithm repository into ./.fz (or ~/.fz).
    #[command(
        subcommand,
        subcommand_required = true,
        arg_required_else_help = false,
        after_help = INSTALL_EXAMPLES
    )]
    Install(InstallCommand),
    /// Uninstall a model or algorithm from ./.fz (or ~/.fz).
    #[command(
        subcommand,
        subcommand_required = true,
        arg_required_else_help = false,
        after_help = "Examples:\n  fz uninstall model Moret --global\n  fz uninstall algorithm brent"
    )]
    Uninstall(UninstallCommand),
    /// List the Funz daemons announcing themselves on a UDP port.
    #[command(after_help = "Examples:\n  \
        fz funz-servers 19001                 # listen 10 s, list every daemon heard\n  \
        fz funz-servers 19001 --code R -d 30  # stop at the first idle daemon offering R\n  \
        fz funz-servers 19001 -f json")]
    FunzServers(FunzServersArgs),
    /// Print a shell completion script for fz.
    #[command(after_help = "Examples:\n  \
        fz completions bash > ~/.local/share/bash-completion/completions/fz\n  \
        fz completions zsh > ~/.zfunc/_fz\n  \
        fz completions fish > ~/.config/fish/completions/fz.fish")]
    Completions(CompletionsArgs),
    /// Print the man page of fz (roff).
    #[command(after_help = "Example:\n  fz man | man -l -")]
    Man,
    /// Help on a command (as --help), or on a topic: 'fz help model' lists the model keys.
    #[command(after_help = "Examples:\n  fz help run\n  fz help model")]
    Help(HelpArgs),
    /// Run queued cases of a packed SLURM run (started by its pack tasks).
    #[command(hide = true)]
    Worker(WorkerArgs),
}

/// Arguments of `fz help`.
#[derive(Debug, Args, Clone)]
pub struct HelpArgs {
    /// A command (run, compile, …) or `model`.
    #[arg(value_name = "COMMAND|TOPIC")]
    pub topic: Vec<String>,
}

/// Arguments of `fz funz-servers`.
#[derive(Debug, Args, Clone)]
pub struct FunzServersArgs {
    #[command(flatten)]
    pub log: LogArgs,
    /// The UDP port the daemons announce themselves on.
    #[arg(value_name = "UDP_PORT")]
    pub udp_port: u16,
    /// Seconds to listen (daemons announce every few seconds).
    #[arg(long, short = 'd', default_value_t = 10.0, value_name = "SECONDS")]
    pub duration: f64,
    /// Stop as soon as an idle daemon offering this code is heard.
    #[arg(long, value_name = "CODE")]
    pub code: Option<String>,
    /// Output format.
    #[arg(long, short = 'f', default_value = "markdown", value_parser = ["json", "markdown", "table"])]
    pub format: String,
}

/// Arguments of the hidden `fz worker` (a pack task's loop).
#[derive(Debug, Args, Clone)]
pub struct WorkerArgs {
    /// The spool directory of the run.
    #[arg(value_name = "SPOOL")]
    pub spool: std::path::PathBuf,
    /// Most cases this task runs.
    #[arg(long = "max-cases", value_name = "N", default_value_t = usize::MAX)]
    pub max_cases: usize,
    /// The task's walltime in seconds: no case starts that would likely
    /// end past it.
    #[arg(long, value_name = "SECONDS")]
    pub walltime: Option<u64>,
}

/// Arguments of `fz completions`.
#[derive(Debug, Args, Clone)]
pub struct CompletionsArgs {
    /// The shell the script is for.
    #[arg(value_name = "SHELL", value_parser = ["bash", "zsh", "fish"])]
    pub shell: String,
}

/// `fz install model|algorithm SOURCE [--global]`.
#[derive(Debug, Subcommand)]
pub enum InstallCommand {
    /// Install a model repository: its .fz/models/*.json and the other .fz
    /// directories (calculator aliases, scripts).
    #[command(after_help = INSTALL_EXAMPLES)]
    Model(InstallArgs),
    /// Install an algorithm repository: its .fz/algorithms/*.py|*.R, else
    /// its top-level .py/.R files.
    #[command(after_help = INSTALL_EXAMPLES)]
    Algorithm(InstallArgs),
}

const INSTALL_EXAMPLES: &str = "Examples:
  fz install model moret                          # github.com/Funz/fz-moret, main then master
  fz install model Funz/fz-moret@v1.0 --global    # a tag, into ~/.fz
  fz install model https://github.com/me/fz-mycode.git
  fz install algorithm https://example.org/fz-brent.zip
  fz install algorithm ./fz-brent.zip             # or a checkout directory";

/// Arguments of `fz install model|algorithm`.
#[derive(Debug, Args, Clone)]
pub struct InstallArgs {
    #[command(flatten)]
    pub log: LogArgs,
    /// A local .zip or directory, an http(s) URL of a zip, a GitHub
    /// repository URL, owner/repo[@ref], or a plugin name (NAME →
    /// Funz/fz-NAME).
    #[arg(value_name = "SOURCE")]
    pub source: String,
    /// Install into ~/.fz instead of ./.fz.
    #[arg(long)]
    pub global: bool,
}

/// `fz uninstall model|algorithm NAME [--global]`.
#[derive(Debug, Subcommand)]
pub enum UninstallCommand {
    /// Uninstall a model and, with its last model, the files its install wrote.
    #[command(after_help = "Example:\n  fz uninstall model Moret --global")]
    Model(UninstallArgs),
    /// Uninstall an algorithm (NAME.py and NAME.R).
    #[command(after_help = "Example:\n  fz uninstall algorithm brent")]
    Algorithm(UninstallArgs),
}

/// Arguments of `fz uninstall model|algorithm`.
#[derive(Debug, Args, Clone)]
pub struct UninstallArgs {
    #[command(flatten)]
    pub log: LogArgs,
    /// The model id or algorithm name.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Uninstall from ~/.fz instead of ./.fz.
    #[arg(long)]
    pub global: bool,
}

/// Arguments of `fz report`.
#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    /// A results directory written by fzr.
    #[arg(value_name = "RESULTS_DIR")]
    pub results_dir: String,
    /// Write a self-contained HTML page (plots, timeline, failures,
    /// table) instead of printing the text report.
    #[arg(long)]
    pub html: bool,
    /// Where to write the HTML page (default RESULTS_DIR/report.html).
    #[arg(short = 'o', long = "output", value_name = "FILE", requires = "html")]
    pub output: Option<String>,
}

/// `fz cache …`.
#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// List the cached cases: path, input-hash key, recorded status, files.
    #[command(after_help = "Example:\n  fz cache list results 'old_runs/*' -f table")]
    List(CacheArgs),
    /// Check that every cached case can still be a hit (files present and
    /// unchanged, recorded done); exit 1 when one cannot.
    #[command(after_help = "Example:\n  fz cache verify results")]
    Verify(CacheArgs),
}

/// Arguments of `fz cache list|verify`.
#[derive(Debug, Args, Clone)]
pub struct CacheArgs {
    /// Results directories, case directories or globs (quote them).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f', default_value = "markdown", value_parser = ["json", "csv", "html", "markdown", "table"])]
    pub format: String,
}

/// Arguments of a command that is not built yet (accepted, then refused).
#[derive(Debug, Args, Clone)]
pub struct Pending {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub rest: Vec<String>,
}

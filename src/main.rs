//! Thin entry point: parse the command line, run it, map errors to exit
//! codes (1 for a failed run, 2 for bad input) with the cause on one line;
//! a closed stdout pipe ends quietly with 0.

use clap::Parser;

/// The async runtime the command runs on: one thread, or one per core.
fn runtime(single_threaded: bool) -> std::io::Result<tokio::runtime::Runtime> {
    if single_threaded {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Runtime::new()
    }
}

fn main() {
    let cli = match medchain::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let rt = match runtime(cli.single_threaded()) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let result = rt.block_on(async {
        // Ctrl-C is watched for the whole run (see medchain::interrupt).
        medchain::interrupt::install();
        let backstop = tokio::spawn(medchain::interrupt::backstop());
        let r = medchain::cli::run(cli).await;
        backstop.abort();
        r
    });
    if let Err(err) = result {
        if medchain::cmd::is_broken_pipe(&err) {
            // The reader went away (`| head`): nothing left to say.
            std::process::exit(0);
        }
        if medchain::interrupt::is_interrupted(&err) {
            eprintln!("error: {err:#}");
            std::process::exit(medchain::interrupt::EXIT_CODE);
        }
        let mut last = err.to_string();
        eprintln!("error: {last}");
        for cause in err.chain().skip(1) {
            // Some errors (alloy's transport errors) repeat their source in
            // their own text: say each thing once.
            let text = cause.to_string();
            if !last.contains(&text) {
                eprintln!("  caused by: {text}");
                last = text;
            }
        }
        std::process::exit(medchain::error::exit_code(&err));
    }
}

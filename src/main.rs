use clap::Parser;

// Evaluation allocates many small, short-lived values; mimalloc serves them
// markedly faster than the system allocator (see the README's benchmark).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = regle::cli::Cli::parse();
    std::process::exit(regle::cli::run(cli));
}

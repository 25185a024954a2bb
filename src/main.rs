use clap::Parser;

fn main() {
    let cli = regle::cli::Cli::parse();
    std::process::exit(regle::cli::run(cli));
}

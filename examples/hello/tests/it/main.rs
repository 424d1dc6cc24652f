//! The real `hello` binary, run as a child process and spoken to over
//! loopback: its command line, its configuration errors, serving, and
//! shutdown in each phase.

mod command_line;
mod serving;
mod start_up;
mod support;

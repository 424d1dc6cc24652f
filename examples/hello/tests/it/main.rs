//! The real `hello` binary, run as a child process and spoken to over
//! loopback: its command line, its configuration errors, serving, the
//! `HTTP_*` limits on both ports, and shutdown in each phase.

mod command_line;
mod serving;
mod slow_clients;
mod start_up;
mod support;

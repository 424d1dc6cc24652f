//! The guide checked like the code: the pages that are doctests, and the
//! excerpts of the example apps found in the files they quote.

mod excerpts;

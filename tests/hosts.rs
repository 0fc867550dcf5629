//! Workers on several machines sharing one queue.

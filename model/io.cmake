# octet::model_io (issue 6): filled in by the model I/O work.

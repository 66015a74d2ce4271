# octet::model (issue 6): filled in by the SystemC model work.

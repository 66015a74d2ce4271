# tests of octet::model_io

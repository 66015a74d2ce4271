# tests of octet::model

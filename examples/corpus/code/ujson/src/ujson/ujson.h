extern PyObject* JSONDecodeError;

from pipe.entry import entry

entry()

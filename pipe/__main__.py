from pipe.common.signals import entry

entry()

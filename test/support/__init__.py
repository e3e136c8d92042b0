"""The test bench: the AWS stand-in, a sample-token maker and a way to run the pipe as a process."""

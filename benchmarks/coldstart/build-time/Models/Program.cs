// run.sh touches this file before each timed rebuild.
System.Console.WriteLine(BuildTime.StreamingLstm.StateSize);

// run.sh touches this file before each timed rebuild.
System.Console.WriteLine(128);

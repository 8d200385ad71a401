{
  "targets": [
    {
      "target_name": "oomtop_proc",
      "sources": ["native/proc_batch.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-pthread"],
      "ldflags": ["-pthread"]
    }
  ]
}

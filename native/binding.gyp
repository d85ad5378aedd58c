{
  "targets": [
    {
      "target_name": "flat6_write",
      "sources": ["write.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"]
    }
  ]
}

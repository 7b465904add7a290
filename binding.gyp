{
  "targets": [
    {
      "target_name": "filegate_native",
      "sources": ["native/filegate.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}

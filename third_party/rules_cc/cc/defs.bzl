"""Offline stand-in for @rules_cc//cc:defs.bzl: the native C++ rules of Bazel 4, re-exported.

Debian's bazel-bootstrap (Bazel 4.2.3) ships the C++ rules natively; the real rules_cc would be
downloaded, and Debian's bazel-rules-cc package targets a newer Bazel. Loading through this file
keeps BUILD files in the canonical form, so moving to the real rules_cc later is a WORKSPACE edit.
"""

def cc_library(**attrs):
    native.cc_library(**attrs)

def cc_binary(**attrs):
    native.cc_binary(**attrs)

def cc_test(**attrs):
    native.cc_test(**attrs)

def cc_import(**attrs):
    native.cc_import(**attrs)

def cc_toolchain(**attrs):
    native.cc_toolchain(**attrs)

def cc_toolchain_suite(**attrs):
    native.cc_toolchain_suite(**attrs)

@tree @guest-data
Feature: Snapshot trees
  As a cloud user on Hyper-V
  I want my snapshots to form a tree, as they do in CloudStack and in Hyper-V
  So that I can branch from any point and come back to any snapshot

  Spec (Testing): "Create multiple VM snapshot with snapshot memory (on, off, mixed) when VM
  is (running, stopped), the snapshots should form a tree hierarchy [A -> B, C]. Revert to any
  snapshots in the tree when VM is (running, stopped)."
  Trees are written A(B, C): A is the parent of B and C; * marks the current snapshot.
  Each snapshot is taken after writing fresh data into the guest, so each one holds its own.
  Memory "mixed" takes every other snapshot with memory.

  Scenario Outline: <shape> with memory <memory>: revert to every node from a <from> VM
    Given a running VM "web"
    And the snapshot tree "<tree>" of "web" with memory <memory>
    Then the snapshot tree of "web" is "<built>"
    And every snapshot of "web" restores its own data when reverted from <from>

    Examples: the spec's A -> {B, C}
      | shape     | tree    | built     | memory | from    |
      | A->{B,C}  | A(B, C) | A(B, C*)  | on     | running |
      | A->{B,C}  | A(B, C) | A(B, C*)  | on     | stopped |
      | A->{B,C}  | A(B, C) | A(B, C*)  | off    | running |
      | A->{B,C}  | A(B, C) | A(B, C*)  | off    | stopped |
      | A->{B,C}  | A(B, C) | A(B, C*)  | mixed  | running |
      | A->{B,C}  | A(B, C) | A(B, C*)  | mixed  | stopped |

    @long-tree
    Examples: a chain of 10
      | shape    | tree                                               | built                                               | memory | from    |
      | chain-10 | S1(S2(S3(S4(S5(S6(S7(S8(S9(S10)))))))))             | S1(S2(S3(S4(S5(S6(S7(S8(S9(S10*)))))))))             | on     | running |
      | chain-10 | S1(S2(S3(S4(S5(S6(S7(S8(S9(S10)))))))))             | S1(S2(S3(S4(S5(S6(S7(S8(S9(S10*)))))))))             | off    | stopped |
      | chain-10 | S1(S2(S3(S4(S5(S6(S7(S8(S9(S10)))))))))             | S1(S2(S3(S4(S5(S6(S7(S8(S9(S10*)))))))))             | mixed  | running |

    @long-tree
    Examples: a wide fan-out
      | shape   | tree                   | built                   | memory | from    |
      | fan-out | R(F1, F2, F3, F4, F5, F6) | R(F1, F2, F3, F4, F5, F6*) | on     | running |
      | fan-out | R(F1, F2, F3, F4, F5, F6) | R(F1, F2, F3, F4, F5, F6*) | off    | stopped |
      | fan-out | R(F1, F2, F3, F4, F5, F6) | R(F1, F2, F3, F4, F5, F6*) | mixed  | stopped |

    @long-tree
    Examples: a two-level tree
      | shape     | tree                      | built                      | memory | from    |
      | two-level | R(M1(L1, L2), M2(L3, L4)) | R(M1(L1, L2), M2(L3, L4*)) | on     | running |
      | two-level | R(M1(L1, L2), M2(L3, L4)) | R(M1(L1, L2), M2(L3, L4*)) | off    | running |
      | two-level | R(M1(L1, L2), M2(L3, L4)) | R(M1(L1, L2), M2(L3, L4*)) | mixed  | stopped |

  Scenario Outline: A tree taken while the VM is stopped (<tree>)
    Given a running VM "web"
    And the snapshot tree "<tree>" of "web" with memory off, taken while stopped
    Then the snapshot tree of "web" is "<built>"
    And every snapshot of "web" restores its own data when reverted from stopped

    Examples:
      | tree          | built          |
      | A(B, C)       | A(B, C*)       |
      | A(B(C))       | A(B(C*))       |

  Scenario Outline: Host and database agree on the tree (<tree>, memory <memory>)
    Given a running VM "web"
    And the snapshot tree "<tree>" of "web" with memory <memory>
    Then the host's checkpoint tree of "web" is "<built>"

    Examples:
      | tree                      | built                      | memory |
      | A(B, C)                   | A(B, C*)                   | on     |
      | A(B, C)                   | A(B, C*)                   | mixed  |
      | R(M1(L1, L2), M2(L3, L4)) | R(M1(L1, L2), M2(L3, L4*)) | on     |
      | R(F1, F2, F3, F4)         | R(F1, F2, F3, F4*)         | mixed  |

  Scenario Outline: Reverting moves the current mark (<target> in <tree>)
    Given a running VM "web"
    And the snapshot tree "<tree>" of "web" with memory on
    When I revert "web" to "<target>"
    Then the snapshot tree of "web" is "<after>"

    Examples:
      | tree                      | target | after                      |
      | A(B, C)                   | A      | A*(B, C)                   |
      | A(B, C)                   | B      | A(B*, C)                   |
      | R(M1(L1, L2), M2(L3, L4)) | M1     | R(M1*(L1, L2), M2(L3, L4)) |
      | R(M1(L1, L2), M2(L3, L4)) | L2     | R(M1(L1, L2*), M2(L3, L4)) |
      | R(M1(L1, L2), M2(L3, L4)) | R      | R*(M1(L1, L2), M2(L3, L4)) |

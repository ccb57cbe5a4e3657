@offering
Feature: Service offering upgrade of a VM with snapshots
  As a cloud user on Hyper-V
  I want to change my VM's service offering while it has snapshots
  So that I can resize it without losing its disk snapshots

  Spec: "VM's memory snapshots will be automatically discarded if VM's service offering is
  upgraded." Disk-only snapshots stay; reverting to one brings back the offering it was
  taken with (Marvin's test_change_service_offering_for_vm_with_snapshots).

  Scenario Outline: Upgrade to <offering> with snapshots "<snapshots>" keeps "<kept>"
    Given a running VM "web"
    And the snapshots "<snapshots>" of "web"
    And "web" is stopped
    When I change the service offering of "web" to "<offering>"
    Then the service offering of "web" is "<offering>"
    And the snapshots of "web" are "<kept>"

    Examples:
      | snapshots           | offering | kept         |
      | mem:M1              | medium   |              |
      | mem:M1              | large    |              |
      | disk:D1             | medium   | D1           |
      | disk:D1             | large    | D1           |
      | mem:M1, disk:D1     | medium   | D1           |
      | mem:M1, disk:D1     | large    | D1           |
      | disk:D1, mem:M1     | large    | D1           |
      | mem:M1, mem:M2      | large    |              |
      | disk:D1, disk:D2    | large    | D1, D2       |

  Scenario Outline: The kept disk snapshot restores the old offering (memory snapshot first: <mixed>)
    Given a running VM "web"
    And the snapshots "<snapshots>" of "web"
    And "web" is stopped
    And the service offering of "web" is changed to "large"
    When I revert "web" to "D1"
    Then the service offering of "web" is "small"
    And "web" is Stopped

    Examples:
      | mixed | snapshots       |
      | no    | disk:D1         |
      | yes   | mem:M1, disk:D1 |

  Scenario Outline: The host keeps only disk checkpoints after the upgrade (<snapshots>)
    Given a running VM "web"
    And the snapshots "<snapshots>" of "web"
    And "web" is stopped
    And the service offering of "web" is changed to "medium"
    When I start "web"
    Then the host's checkpoints of "web" hold memory "<memory>"

    Examples:
      | snapshots       | memory |
      | mem:M1, disk:D1 | off    |
      | disk:D1, disk:D2 | off, off |

  Scenario Outline: Offering changes that are refused (<why>)
    Given a running VM "web"
    And the snapshots "mem:M1" of "web"
    And "web" is <state>
    When I try to change the service offering of "web" to "<offering>"
    Then the request is refused with error 431 saying "<message>"
    And the snapshots of "web" are "M1"

    Examples:
      | why                | state   | offering | message              |
      | VM running         | running | large    | stop it first        |
      | same offering      | stopped | small    | already has          |
      | unknown offering   | stopped | huge     | Unable to find       |

@outage @export @sim-only @simulated-time
Feature: Export strategies under outages, in simulated time
  As a cloud operator on Hyper-V
  I want stop and start to stay safe when primary storage fails or users are impatient
  So that a VM's snapshots are never lost to an export that did not finish

  Spec ("When to export the VM"): "What will be done if VM is started before the export
  operation has been completed? What will happen if primary goes down in middle of an export
  operation?" The host runs in SimPy time: an export takes simulated seconds, and faults
  strike at a simulated moment. The Allure report shows each host command's simulated time.

  Scenario Outline: on-stop: primary storage goes down <after> s into the export of a stop (<count> snapshots)
    Given the export strategy is "on-stop"
    And a running VM "web"
    And <count> snapshots of "web" with memory <memory>
    And primary storage goes down <after> seconds into the next ExportVM
    When I try to stop "web"
    Then the request is refused with error 530 saying "primary storage"
    And "web" has <count> snapshots
    When primary storage comes back
    And I stop "web"
    And I start "web"
    Then "web" is Running
    And the host's checkpoints of "web" are the <count> snapshots

    Examples:
      | count | memory | after |
      | 1     | on     | 0.5   |
      | 2     | mixed  | 1     |
      | 3     | off    | 0.1   |

  Scenario Outline: on-stop: a start requested <after> s into the stop's export is refused, the stop completes
    Given the export strategy is "on-stop"
    And a running VM "web"
    And 2 snapshots of "web" with memory <memory>
    And a start of "web" is requested <after> seconds into the next ExportVM
    When I stop "web"
    Then the request is refused with error 431 saying "only a Stopped one can start"
    And "web" is Stopped
    And the host log shows ExportVM taking simulated time
    When I start "web"
    Then the host's checkpoints of "web" are the 2 snapshots

    Examples:
      | memory | after |
      | on     | 0.5   |
      | off    | 1     |

  Scenario Outline: <strategy>: stop and start in simulated time keep the snapshots
    Given the export strategy is "<strategy>"
    And a running VM "web"
    And 2 snapshots of "web" with memory on
    When I stop "web"
    And I start "web"
    Then the host's checkpoints of "web" are the 2 snapshots
    And the host log shows ExportVM taking simulated time

    Examples:
      | strategy    |
      | on-stop     |
      | on-snapshot |

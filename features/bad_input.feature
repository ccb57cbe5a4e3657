@bad-input
Feature: Bad input is refused cleanly, odd input is stored verbatim
  As a cloud operator
  I want unknown ids, oversize names and hostile strings handled without surprises
  So that no request can break the database, the host's checkpoint names or the listing

  A refused request changes nothing and answers with CloudStack's error code (431 for a
  bad parameter). Names and descriptions are data: they never reach the host, whose
  checkpoint is named <instance>_VS_<yyyyMMddHHmmss>.

  Scenario Outline: <operation> with the unknown id "<id>" is refused
    Given a running VM "web"
    When I try to "<operation>" with the id "<id>"
    Then the request is refused with error 431 saying "<message>"

    Examples:
      | operation              | id                                   | message        |
      | take a snapshot        | 00000000-0000-0000-0000-000000000000 | Unable to find |
      | take a snapshot        | not-a-uuid                           | Unable to find |
      | take a snapshot        | ' OR '1'='1                          | Unable to find |
      | take a memory snapshot | $(reboot)                            | Unable to find |
      | revert to snapshot     | 00000000-0000-0000-0000-000000000000 | Unable to find |
      | revert to snapshot     | ; DROP TABLE vm_snapshots; --        | Unable to find |
      | revert to snapshot     | `id`                                 | Unable to find |
      | delete snapshot        | 00000000-0000-0000-0000-000000000000 | Unable to find |
      | delete snapshot        | ../../etc/passwd                     | Unable to find |
      | delete snapshot        | ünïcødé                              | Unable to find |
      | delete all snapshots   | 00000000-0000-0000-0000-000000000000 | Unable to find |
      | delete all snapshots   | i-2-1-VM                             | Unable to find |
      | start VM               | 00000000-0000-0000-0000-000000000000 | Unable to find |
      | stop VM                | not-a-uuid                           | Unable to find |
      | destroy VM             | not-a-uuid                           | Unable to find |
      | attach volume          | not-a-uuid                           | Unable to find |
      | volume snapshot        | not-a-uuid                           | Unable to find |

  Scenario Outline: Listing by the unknown VM id "<id>" finds nothing
    Given a running VM "web"
    And a snapshot "A" of "web" with memory off
    When I list snapshots with vm "<id>"
    Then the listing is ""

    Examples:
      | id                                   |
      | 00000000-0000-0000-0000-000000000000 |
      | '; DELETE FROM vm_snapshots; --      |
      | %                                    |

  Scenario Outline: A <field> of <length> characters "<char>" is <outcome>
    Given a running VM "web"
    When I try to take a snapshot of "web" with a <field> of <length> characters "<char>"
    Then the request is <outcome>

    Examples:
      | field       | length | char | outcome  |
      | name        | 255    | x    | accepted |
      | name        | 256    | x    | refused  |
      | name        | 255    | é    | accepted |
      | name        | 256    | 雪   | refused  |
      | name        | 1000   | x    | refused  |
      | description | 255    | x    | accepted |
      | description | 256    | x    | refused  |
      | description | 255    | 🙂   | accepted |
      | description | 4096   | x    | refused  |

  Scenario Outline: The name <kind> is stored and listed verbatim
    Given a running VM "web"
    When I take a snapshot of "web" named: <name>
    Then the listed display name is exactly: <name>
    And the host's checkpoint of that snapshot has an internal name
    And a keyword search for the whole name finds exactly that snapshot
    And the snapshot can be reverted to

    Examples:
      | kind              | name                                  |
      | with quotes       | it's "quoted"                         |
      | with semicolons   | a; b; c;                              |
      | SQL               | x'); DROP TABLE vm_snapshots; --      |
      | command           | $(rm -rf /)                           |
      | backticks         | `shutdown -h now`                     |
      | pipes             | a \| b \|\| c                         |
      | ampersands        | a && b & c                            |
      | redirects         | > /dev/null 2>&1 < in                 |
      | PowerShell        | '; Remove-VM -Name * -Force; '        |
      | PowerShell sub    | $(Get-VM \| Stop-VM)                  |
      | wildcards         | snap_%_*?[a-z]                        |
      | backslashes       | C:\\Windows\\System32                 |
      | unicode           | snäpshot ünïcødé                      |
      | CJK               | 快照 スナップショット                  |
      | right-to-left     | لقطة                                  |
      | emoji             | 🙂📸 backup                            |
      | zero-width joiner | a‍b                                   |
      | HTML              | <script>alert(1)</script>             |
      | JSON              | {"id": 1, "state": "Error"}           |
      | format string     | %s%s%n {0} {name}                     |
      | leading dashes    | --force -rf                           |

  Scenario Outline: The description <kind> is stored verbatim
    Given a running VM "web"
    When I take a snapshot "A" of "web" described as: <description>
    Then the listed description of "A" is exactly: <description>

    Examples:
      | kind       | description                   |
      | backslash  | a\tb c:\\temp               |
      | newline    | line one\nline two            |
      | quotes     | "double" and 'single'         |
      | command    | $(id) `id` ; id               |
      | unicode    | Ünïcødé — “smart” quotes      |
